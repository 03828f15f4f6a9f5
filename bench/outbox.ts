/**
 * `npm run bench:outbox`: events/s through outbox → relay → NATS JetStream → notifications
 * consumer on PostgreSQL, and the p50/p99 lag from a writer's commit to the consumer's inbox
 * commit. Prints one JSON line. Uses DATABASE_URL's server (default: the local PostgreSQL, in a
 * throwaway database) and NATS_URL (default nats://127.0.0.1:4222), with a throwaway stream.
 * BENCH_EVENTS (default 5000), BENCH_AGGREGATES (200), BENCH_WRITERS (8), OUTBOX_BATCH_SIZE (100).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { openDatabase } from '../src/db/knex';
import { appendEvent } from '../src/outbox/append-event';
import { connectNats } from '../src/outbox/nats-stream';
import { createNatsTransport } from '../src/relay/nats-transport';
import { OutboxRelay } from '../src/relay/outbox-relay';
import { startJetStreamConsumer } from '../src/services/notifications/jetstream-consumer';
import { notificationsMigrations } from '../src/services/notifications/migrations';
import { paymentMigrations } from '../src/services/payment/payment-app';
import { percentile, positiveIntFromEnv } from './bench-support';

async function main(): Promise<void> {
  const events = positiveIntFromEnv('BENCH_EVENTS', 5000);
  const aggregates = positiveIntFromEnv('BENCH_AGGREGATES', 200);
  const writers = positiveIntFromEnv('BENCH_WRITERS', 8);
  const batchSize = positiveIntFromEnv('OUTBOX_BATCH_SIZE', 100);
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `trip_saga_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [dbName]);
  const databaseUrl = serverUrl.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-bench-'));
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const settings = {
    natsUrl,
    stream: `BENCH_${id}`,
    subjectPrefix: `bench${id}.events`,
    durable: `bench_${id}`,
    signingSecret: randomUUID(),
  };

  const outbox = await openDatabase('payment', { dataDir, databaseUrl }, { migrations: paymentMigrations });
  const inbox = await openDatabase('notifications', { dataDir, databaseUrl }, { migrations: notificationsMigrations });
  const transport = await createNatsTransport(settings);
  const nc = await connectNats(natsUrl, 'bench-consumer');
  const consumer = await startJetStreamConsumer(nc, { ...settings, db: inbox });
  const relayOptions = {
    batchSize,
    pollIntervalMs: 10,
    maxAttempts: 20,
    backoffBaseMs: 100,
    backoffMaxMs: 2000,
    retentionMs: 3_600_000,
  };
  const relay = new OutboxRelay([{ name: 'payment', db: outbox }], transport, relayOptions);
  const committedAt = new Map<string, number>();
  const write = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < to) {
          const n = next++;
          const eventId = await outbox.transaction((trx) =>
            appendEvent(trx, {
              aggregateType: 'charge',
              aggregateId: `bench-${n % aggregates}`,
              eventType: 'ChargeRefunded',
              payload: { tripId: `trip-bench-${n}`, amountCents: 100, currency: 'USD' },
            }),
          );
          committedAt.set(eventId, Date.now());
        }
      }),
    );
  };
  const consumed = async (total: number) => {
    const deadline = Date.now() + 600_000;
    for (;;) {
      const row = (await inbox('inbox').count({ n: '*' }).first()) as { n: number | string };
      if (Number(row.n) >= total) break;
      if (Date.now() > deadline) throw new Error(`only ${row.n} of ${total} events consumed in 10 minutes`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const rows = (await inbox('inbox').select('event_id', 'received_at')) as Array<{
      event_id: string;
      received_at: number;
    }>;
    return Math.max(...rows.map((r) => Number(r.received_at)));
  };
  try {
    // Phase 1, live: writers commit while the relay and the consumer run (commit → consumed lag).
    relay.start();
    const started = Date.now();
    await write(0, events);
    const written = Date.now();
    const finished = await consumed(events);
    await relay.stop();
    const rows = (await inbox('inbox').select('event_id', 'received_at')) as Array<{
      event_id: string;
      received_at: number;
    }>;
    const lags = rows
      .map((r) => Number(r.received_at) - (committedAt.get(r.event_id) ?? Number(r.received_at)))
      .sort((a, b) => a - b);
    const seconds = (finished - started) / 1000;

    // Phase 2, backlog: the same number of events already committed, then relay → NATS → consumer
    // drains them (the pipeline's own throughput, without the writers competing for the CPU).
    await write(events, 2 * events);
    const backlogRelay = new OutboxRelay([{ name: 'payment', db: outbox }], transport, {
      ...relayOptions,
      pollIntervalMs: 10,
    });
    const drainStarted = Date.now();
    backlogRelay.start();
    const drained = await consumed(2 * events);
    await backlogRelay.stop();

    console.log(
      JSON.stringify({
        bench: 'outbox',
        db: 'postgresql',
        transport: 'nats-jetstream',
        events,
        aggregates,
        writers,
        batchSize,
        live: {
          writeSeconds: Number(((written - started) / 1000).toFixed(3)),
          totalSeconds: Number(seconds.toFixed(3)),
          eventsPerSecond: Math.round(events / seconds),
          lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] ?? 0 },
        },
        backlog: {
          seconds: Number(((drained - drainStarted) / 1000).toFixed(3)),
          eventsPerSecond: Math.round(events / ((drained - drainStarted) / 1000)),
        },
        emails: Number(((await inbox('emails').count({ n: '*' }).first()) as { n: number | string }).n),
      }),
    );
  } finally {
    await relay.stop();
    await transport.close();
    await consumer.stop();
    await (await nc.jetstreamManager()).streams.delete(settings.stream).catch(() => undefined);
    await nc.close();
    await outbox.destroy();
    await inbox.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [dbName]).catch(() => undefined);
    await admin.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
