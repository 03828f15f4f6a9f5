/**
 * Only the relay can make notifications send an email over NATS: events published straight to
 * the stream without the relay's signature (or with a forged one) are terminated, never applied;
 * and a NATS server with authorization is reached with the configured credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import type { EventEnvelope } from '../../src/outbox/event';
import { EVENT_SIGNATURE_HEADER, signedEventHeaders } from '../../src/outbox/event-signature';
import { connectNats, subjectFor, type StreamSettings } from '../../src/outbox/nats-stream';
import { createNatsTransport } from '../../src/relay/nats-transport';
import { startJetStreamConsumer } from '../../src/services/notifications/jetstream-consumer';
import { freePort } from '../../src/testkit/stack';
import { interpolate, readComposeFile } from '../support/compose-file';
import { openDbs, uniqueStream, waitFor, type Dbs } from '../support/outbox-harness';

let dbs: Dbs;
beforeAll(async () => {
  dbs = await openDbs();
});
afterAll(async () => {
  await dbs?.close();
});

const refund = (label: string): EventEnvelope => ({
  id: randomUUID(),
  source: 'payment',
  aggregateType: 'charge',
  aggregateId: `charge-${label}`,
  type: 'ChargeRefunded',
  payload: { tripId: `trip-${label}`, amountCents: 100, currency: 'USD' },
  createdAt: Date.now(),
});

const emailsFor = async (tripIds: string[]) =>
  (await dbs.notifications('emails').whereIn('trip_id', tripIds).select('trip_id')).map((r) => r.trip_id as string);
const inboxHas = async (id: string) => (await dbs.notifications('inbox').where({ event_id: id }).first()) !== undefined;

async function withConsumer<T>(
  settings: StreamSettings & { durable: string },
  fn: (nc: NatsConnection, metrics: Registry) => Promise<T>,
): Promise<T> {
  const nc = await connectNats(settings.natsUrl, 'signature-test', settings.auth);
  const metrics = new Registry();
  const consumer = await startJetStreamConsumer(nc, { ...settings, db: dbs.notifications, metrics });
  try {
    return await fn(nc, metrics);
  } finally {
    await consumer.stop();
    await (await nc.jetstreamManager()).streams.delete(settings.stream).catch(() => undefined);
    await nc.close();
  }
}

it('terminates unsigned, forged and tampered events unapplied, and applies the relay-signed one', async () => {
  const settings = uniqueStream();
  await withConsumer(settings, async (nc, metrics) => {
    const js = nc.jetstream();
    const subject = subjectFor(settings.subjectPrefix, 'charge');
    const label = randomUUID().slice(0, 8);
    const unsigned = refund(`${label}-unsigned`);
    const forged = refund(`${label}-forged`);
    const tampered = refund(`${label}-tampered`);
    const genuine = refund(`${label}-genuine`);
    await js.publish(subject, new TextEncoder().encode(JSON.stringify(unsigned)), { msgID: unsigned.id });
    const forgedBody = JSON.stringify(forged);
    await js.publish(subject, new TextEncoder().encode(forgedBody), {
      msgID: forged.id,
      headers: signedEventHeaders('not-the-relay-secret-0123456789', forgedBody),
    });
    // A genuine signature lifted from another message does not cover this body.
    const lifted = signedEventHeaders(settings.signingSecret, JSON.stringify(genuine));
    const h = natsHeaders();
    h.set(EVENT_SIGNATURE_HEADER, lifted.get(EVENT_SIGNATURE_HEADER));
    await js.publish(subject, new TextEncoder().encode(JSON.stringify(tampered)), { msgID: tampered.id, headers: h });

    const transport = await createNatsTransport(settings);
    try {
      await transport.publish(genuine);
    } finally {
      await transport.close();
    }
    // The consumer reads in stream order: once the last one is applied, the three before it were handled.
    await waitFor('the signed event applied', () => inboxHas(genuine.id), Boolean);
    const trips = [unsigned, forged, tampered, genuine].map((e) => (e.payload as { tripId: string }).tripId);
    expect(await emailsFor(trips)).toEqual([`trip-${label}-genuine`]);
    for (const e of [unsigned, forged, tampered]) expect(await inboxHas(e.id)).toBe(false);
    const counted = (await metrics.getSingleMetric('notifications_events_rejected_total')?.get())?.values ?? [];
    expect(Object.fromEntries(counted.map((v) => [v.labels.reason, v.value]))).toEqual({
      'missing signature': 1,
      'bad signature': 2,
    });
    // Terminated, not left for redelivery.
    const jsm = await nc.jetstreamManager();
    const info = await waitFor(
      'no message left pending',
      () => jsm.consumers.info(settings.stream, settings.durable),
      (i) => i.num_ack_pending === 0,
      10_000,
    );
    expect({ pending: info.num_pending, redelivered: info.num_redelivered }).toEqual({ pending: 0, redelivered: 0 });
  });
});

describe("a NATS server with docker-compose.yml's login", () => {
  let server: ChildProcess | undefined;
  let dir: string;
  let url: string;
  // Starts with a digit and holds a '#': taken literally on the command line.
  const password = `4${randomUUID()}#x`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-nats-auth-'));
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    // The compose file's own NATS command line (its login), on a port and store of this test's.
    const command = (readComposeFile().services.nats?.command as string[]).map((a) =>
      interpolate(a, { NATS_PASSWORD: password }),
    );
    command.splice(command.indexOf('-sd'), 2, '-sd', path.join(dir, 'js'));
    command.splice(command.indexOf('-m'), 2); // no monitoring port: 8222 may be taken here
    const bin = process.env.NATS_SERVER_PATH ?? '/usr/sbin/nats-server';
    server = spawn(bin, [...command, '-a', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    server.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    await waitFor(
      'nats-server with authorization',
      async () => /Server is ready/.test(log) || server?.exitCode !== null,
      Boolean,
    );
    if (server.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a connection without credentials or with a wrong password', async () => {
    await expect(connectNats(url, 'no-credentials')).rejects.toThrow(/authorization/i);
    await expect(connectNats(url, 'wrong-password', { user: 'trip', pass: 'wrong' })).rejects.toThrow(/authorization/i);
  });

  it('carries a signed event from the relay transport to the consumer with the configured credentials', async () => {
    const settings = { ...uniqueStream(url), auth: { user: 'trip', pass: password } };
    await withConsumer(settings, async () => {
      const event = refund(randomUUID().slice(0, 8));
      const transport = await createNatsTransport(settings);
      try {
        await transport.publish(event);
      } finally {
        await transport.close();
      }
      await waitFor('the event applied', () => inboxHas(event.id), Boolean);
    });
  });
});
