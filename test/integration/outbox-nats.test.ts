/** The relay on PostgreSQL publishing to the machine's NATS JetStream, consumed exactly once. */
import type { Knex } from 'knex';
import { createNatsTransport, type NatsTransport } from '../../src/relay/nats-transport';
import { OutboxRelay, type RelayOptions } from '../../src/relay/outbox-relay';
import { appendEvent } from '../../src/outbox/append-event';
import { createRelayMetrics } from '../../src/relay/relay-metrics';
import { startMetricsServer } from '../../src/relay/metrics-server';
import type { Transport } from '../../src/relay/transport';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import {
  appendRefunds,
  count,
  deliveryProblems,
  openDbs,
  startNatsConsumer,
  streamMessages,
  uniqueStream,
  unpublished,
  waitFor,
  type Dbs,
} from '../support/outbox-harness';

const relayOptions = (over: Partial<RelayOptions> = {}): RelayOptions => ({
  batchSize: 25,
  pollIntervalMs: 20,
  maxAttempts: 5,
  backoffBaseMs: 10,
  backoffMaxMs: 50,
  retentionMs: 3_600_000,
  ...over,
});

let pg: TestDatabase;
let dbs: Dbs;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_nats');
  dbs = await openDbs(pg.url);
});
afterAll(async () => {
  await dbs?.close();
  await pg?.drop();
});

async function withStream<T>(
  fn: (
    s: ReturnType<typeof uniqueStream>,
    transport: NatsTransport,
    consumer: Awaited<ReturnType<typeof startNatsConsumer>>,
  ) => Promise<T>,
) {
  const settings = uniqueStream();
  const transport = await createNatsTransport(settings);
  const consumer = await startNatsConsumer(dbs.notifications, settings);
  try {
    return await fn(settings, transport, consumer);
  } finally {
    await transport.close();
    await consumer.stop();
  }
}

const source = () => ({ name: 'payment', db: dbs.payment });
const applied = (ids: string[]) => () =>
  dbs
    .notifications('inbox')
    .whereIn('event_id', ids)
    .count({ n: '*' })
    .first()
    .then((r) => Number((r as { n: string }).n));

describe('relay → NATS JetStream → notifications', () => {
  it('delivers every event once, one email each, in order per aggregate', async () => {
    await withStream(async (settings, transport, consumer) => {
      const ids = await appendRefunds(dbs.payment, 8, 5);
      const relay = new OutboxRelay([source()], transport, relayOptions());
      expect(await relay.drainAll()).toBe(ids.length);
      await waitFor('all events applied', applied(ids), (n) => n === ids.length);
      expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
      expect(await streamMessages(consumer.nc, settings.stream)).toBe(ids.length);
      expect(await unpublished(dbs.payment)).toBe(0);
    });
  });

  it('runs two relays on one outbox without losing an event, breaking order or sending an email twice', async () => {
    await withStream(async (settings, transport, consumer) => {
      const ids = await appendRefunds(dbs.payment, 20, 6);
      const a = new OutboxRelay([source()], transport, relayOptions({ batchSize: 7 }));
      const second = await createNatsTransport(settings);
      const b = new OutboxRelay([source()], second, relayOptions({ batchSize: 7 }));
      a.start();
      b.start();
      await waitFor(
        'outbox drained',
        () => unpublished(dbs.payment),
        (n) => n === 0,
      );
      await Promise.all([a.stop(), b.stop()]);
      await second.close();
      await waitFor('all events applied', applied(ids), (n) => n === ids.length);
      expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
      // Both relays did part of the work; together exactly every event once (row locks).
      const pa = a.totals.get('payment')?.published ?? 0;
      const pb = b.totals.get('payment')?.published ?? 0;
      expect(pa + pb).toBe(ids.length);
      expect(pa).toBeGreaterThan(0);
      expect(pb).toBeGreaterThan(0);
      expect(await streamMessages(consumer.nc, settings.stream)).toBe(ids.length);
    });
  });

  it('keeps per-aggregate order with two relays on a few hot aggregates', async () => {
    await withStream(async (settings, transport) => {
      const ids = await appendRefunds(dbs.payment, 3, 30);
      const second = await createNatsTransport(settings);
      const relays = [
        new OutboxRelay([source()], transport, relayOptions({ batchSize: 5 })),
        new OutboxRelay([source()], second, relayOptions({ batchSize: 5 })),
      ];
      relays.forEach((r) => r.start());
      await waitFor(
        'outbox drained',
        () => unpublished(dbs.payment),
        (n) => n === 0,
      );
      await Promise.all(relays.map((r) => r.stop()));
      await second.close();
      await waitFor('all events applied', applied(ids), (n) => n === ids.length);
      expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
    });
  });

  it('wakes on the commit NOTIFY instead of waiting for its next poll', async () => {
    await withStream(async (_settings, transport) => {
      const relay = new OutboxRelay([source()], transport, relayOptions({ pollIntervalMs: 60_000 }));
      relay.start();
      try {
        await new Promise((r) => setTimeout(r, 300));
        const ids = await appendRefunds(dbs.payment, 1, 1);
        await waitFor('event applied long before the next poll', applied(ids), (n) => n === 1, 5_000);
      } finally {
        await relay.stop();
      }
    });
  });

  it('publishes the event of a transaction that commits after later ones were published', async () => {
    await withStream(async (_settings, transport) => {
      let commitLate!: () => void;
      const gate = new Promise<void>((r) => (commitLate = r));
      let lateId = '';
      const late = dbs.payment.transaction(async (trx: Knex.Transaction) => {
        lateId = await appendEvent(trx, {
          aggregateType: 'charge',
          aggregateId: 'late-charge',
          eventType: 'ChargeRefunded',
          payload: { tripId: 'trip-late' },
        });
        await gate;
      });
      await waitFor(
        'late event appended',
        async () => lateId,
        (v) => v !== '',
      );
      const early = await appendRefunds(dbs.payment, 3, 2);
      const relay = new OutboxRelay([source()], transport, relayOptions());
      expect(await relay.drainAll()).toBe(early.length);
      commitLate();
      await late;
      expect(await relay.drainAll()).toBe(1);
      await waitFor('late event applied', applied([lateId]), (n) => n === 1);
      expect(await deliveryProblems(dbs.payment, dbs.notifications, [...early, lateId])).toEqual([]);
    });
  });

  it('parks an event that keeps failing, without blocking the others, and reports it', async () => {
    await withStream(async (_settings, transport) => {
      const poisoned = await appendRefunds(dbs.payment, 1, 1, 'poison');
      const healthy = await appendRefunds(dbs.payment, 4, 1);
      const flaky: Transport = {
        name: 'flaky',
        publish: async (e) => {
          if (poisoned.includes(e.id)) throw new Error('receiver rejects this event');
          await transport.publish(e);
        },
        close: async () => undefined,
      };
      const metrics = createRelayMetrics([source()]);
      const relay = new OutboxRelay([source()], flaky, relayOptions({ maxAttempts: 3, metrics }));
      relay.start();
      const parkedAt = async () =>
        ((await dbs.payment('outbox').where({ event_id: poisoned[0] }).first()) as { parked_at: number | null })
          .parked_at;
      await waitFor('poisoned event parked', parkedAt, (v) => v !== null);
      await waitFor('healthy events applied', applied(healthy), (n) => n === healthy.length);
      await relay.stop();
      const row = await dbs.payment('outbox').where({ event_id: poisoned[0] }).first();
      expect(row).toMatchObject({ attempts: 3, published_at: null, last_error: 'receiver rejects this event' });
      const report = await relay.report();
      expect(report[0]).toMatchObject({ source: 'payment', parked: 1, lagMs: 0 });
      const server = await startMetricsServer(metrics.registry, '127.0.0.1', 0);
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      await server.close();
      expect(text).toMatch(/outbox_parked\{source="payment"\} 1/);
      expect(text).toMatch(/outbox_parked_total\{source="payment"\} 1/);
      expect(text).toMatch(/outbox_published_total\{source="payment"\} 4/);
      expect(await count(dbs.notifications, 'inbox', { event_id: poisoned[0] })).toBe(0);
    });
  });
});
