/**
 * The durable inbox consumer (src/inbox/jetstream-consumer.ts) applies one aggregate's events in
 * stream order even when one of them fails: the events behind it wait (other aggregates do not),
 * and once it applies they follow. Both of its modes: batched (notifications; the failure is
 * injected in the notifications database itself, a trigger refusing one event's inbox row while
 * a switch is on) and one event at a time (the choreography's consumers; `apply` throws for the
 * switched event).
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../../src/outbox/event';
import { connect } from 'nats';
import { startDurableConsumer, type ApplyOutcome } from '../../src/inbox/jetstream-consumer';
import { createNatsTransport } from '../../src/relay/nats-transport';
import { count, openDbs, startNatsConsumer, uniqueStream, waitFor, type Dbs } from '../support/outbox-harness';

let dbs: Dbs;
beforeAll(async () => {
  dbs = await openDbs();
});
afterAll(async () => dbs?.close());

const refund = (aggregateId: string, n: number): EventEnvelope => ({
  id: randomUUID(),
  source: 'payment',
  aggregateType: 'charge',
  aggregateId,
  type: 'ChargeRefunded',
  payload: { tripId: `trip-${aggregateId}-${n}`, amountCents: 100, currency: 'USD' },
  createdAt: Date.now(),
});

it('batched: holds the later events of an aggregate behind its failing event, lets other aggregates through, then applies them in order', async () => {
  const a = [refund('charge-a', 1), refund('charge-a', 2), refund('charge-a', 3)];
  const b = [refund('charge-b', 1), refund('charge-b', 2)];
  const [a1] = a;
  await dbs.notifications.raw('CREATE TABLE fail_switch (event_id TEXT PRIMARY KEY)');
  await dbs.notifications('fail_switch').insert({ event_id: a1?.id });
  await dbs.notifications.raw(`
    CREATE TRIGGER refuse_while_switched BEFORE INSERT ON inbox
    WHEN NEW.event_id IN (SELECT event_id FROM fail_switch)
    BEGIN SELECT RAISE(ABORT, 'injected apply failure'); END`);

  const settings = uniqueStream();
  const transport = await createNatsTransport(settings);
  const consumer = await startNatsConsumer(dbs.notifications, settings);
  try {
    for (const e of [...a, ...b]) await transport.publish(e);
    await waitFor(
      'the other aggregate applied',
      () => count(dbs.notifications, 'inbox', { aggregate_id: 'charge-b' }),
      (n) => n === b.length,
    );
    // Give a consumer that let A's next event through the time to do so.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count(dbs.notifications, 'inbox', { aggregate_id: 'charge-a' })).toBe(0);

    await dbs.notifications('fail_switch').delete();
    await waitFor(
      'the held aggregate applied',
      () => count(dbs.notifications, 'inbox', { aggregate_id: 'charge-a' }),
      (n) => n === a.length,
    );
    const applied = (await dbs.notifications('inbox').where({ aggregate_id: 'charge-a' }).orderBy('seq')) as Array<{
      event_id: string;
    }>;
    expect(applied.map((r) => r.event_id)).toEqual(a.map((e) => e.id));
    expect(await count(dbs.notifications, 'emails')).toBe(a.length + b.length);
  } finally {
    await transport.close();
    await consumer.stop();
  }
});

it('one at a time: holds the later events of an aggregate behind its failing event, lets other aggregates through, then applies them in order', async () => {
  const a = [refund('charge-a', 1), refund('charge-a', 2), refund('charge-a', 3)];
  const b = [refund('charge-b', 1), refund('charge-b', 2)];
  const failing = new Set([a[0]?.id]);
  const applied: EventEnvelope[] = [];
  let attempts = 0;
  const settings = uniqueStream();
  const transport = await createNatsTransport(settings);
  const nc = await connect({ servers: settings.natsUrl });
  const consumer = await startDurableConsumer(nc, {
    ...settings,
    concurrency: 4,
    retry: { baseMs: 50, maxMs: 200 },
    apply: async (event): Promise<ApplyOutcome> => {
      if (failing.has(event.id)) {
        attempts++;
        throw new Error('injected apply failure');
      }
      applied.push(event);
      return 'applied';
    },
  });
  try {
    for (const e of [...a, ...b]) await transport.publish(e);
    await waitFor(
      'the other aggregate applied and the failing event retried',
      async () => ({ b: applied.filter((e) => e.aggregateId === 'charge-b').length, attempts }),
      (n) => n.b === b.length && n.attempts >= 3,
    );
    expect(applied.filter((e) => e.aggregateId === 'charge-a')).toEqual([]);

    failing.clear();
    await waitFor(
      'the held aggregate applied',
      async () => applied.filter((e) => e.aggregateId === 'charge-a').length,
      (n) => n === a.length,
    );
    expect(applied.filter((e) => e.aggregateId === 'charge-a').map((e) => e.id)).toEqual(a.map((e) => e.id));
    // Nothing applied twice: the held events were acked once applied, never redelivered meanwhile.
    expect(new Set(applied.map((e) => e.id)).size).toBe(applied.length);
  } finally {
    await transport.close();
    await consumer.stop();
    await (await nc.jetstreamManager()).streams.delete(settings.stream).catch(() => undefined);
    await nc.close();
  }
});
