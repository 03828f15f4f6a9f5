/**
 * Two relays on one PostgreSQL outbox, two batches in flight each, over few aggregates with long
 * backlogs (every claim fights over the same heads): each event is published once, each
 * aggregate's events in outbox order, and both relays take a share. A relay whose connections die
 * mid-batch frees its aggregates: the other publishes everything left, still in order.
 */
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/knex';
import type { EventEnvelope } from '../../src/outbox/event';
import { OutboxRelay, type RelayOptions } from '../../src/relay/outbox-relay';
import type { Transport } from '../../src/relay/transport';
import { paymentMigrations } from '../../src/services/payment/payment-app';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { openDbs, unpublished, waitFor, type Dbs } from '../support/outbox-harness';

const AGGREGATES = 12;
const EVENTS = 1_200;

const options: RelayOptions = {
  batchSize: 40,
  pollIntervalMs: 20,
  concurrentBatches: 2,
  maxAttempts: 5,
  backoffBaseMs: 1,
  backoffMaxMs: 2,
  retentionMs: 3_600_000,
};

let pg: TestDatabase;
let dbs: Dbs;
/** The second relay's own pool, as a second process would have. */
let second: Knex;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_two_relays');
  dbs = await openDbs(pg.url);
  second = await openDatabase(
    'payment',
    { dataDir: dbs.dataDir, databaseUrl: pg.url },
    { migrations: paymentMigrations },
  );
});
afterAll(async () => {
  await second?.destroy();
  await dbs?.close();
  await pg?.drop();
});

interface Sent {
  relay: string;
  id: string;
  aggregate: string;
}

/** A transport that logs each publish as it starts and acknowledges it after a short random wait. */
function recordingTransport(relay: string, log: Sent[]): Transport {
  return {
    name: 'fake',
    async publish(e: EventEnvelope) {
      log.push({ relay, id: e.id, aggregate: e.aggregateId });
      await new Promise((r) => setTimeout(r, Math.random() * 2));
    },
    async close() {},
  };
}

/** `EVENTS` events round-robin over the aggregates, committed at once; their ids in outbox order. */
async function backlog(prefix: string): Promise<string[]> {
  await dbs.payment.raw(
    `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, attempts, next_attempt_at)
     SELECT gen_random_uuid(), 'charge', ? || (n % ?), 'ChargeRefunded', '{}', n, 0, 0
     FROM generate_series(1, ?) AS n`,
    [prefix, AGGREGATES, EVENTS],
  );
  const rows = (await dbs
    .payment('outbox')
    .select('event_id')
    .where('aggregate_id', 'like', `${prefix}%`)
    .orderBy('seq')) as Array<{ event_id: string }>;
  return rows.map((r) => r.event_id);
}

/** Per aggregate, the publishes in the order they started, against the outbox order. */
function orderProblems(inOrder: string[], log: Sent[]): string[] {
  const position = new Map(inOrder.map((id, i) => [id, i]));
  const last = new Map<string, number>();
  const problems: string[] = [];
  for (const s of log) {
    const p = position.get(s.id) ?? -1;
    if (p <= (last.get(s.aggregate) ?? -1)) problems.push(`${s.aggregate}: ${s.id} went after a later event`);
    last.set(s.aggregate, Math.max(p, last.get(s.aggregate) ?? -1));
  }
  return problems;
}

it('publishes every event once and each aggregate in order, the two relays sharing the aggregates', async () => {
  const log: Sent[] = [];
  const a = new OutboxRelay([{ name: 'payment', db: dbs.payment }], recordingTransport('a', log), options);
  const b = new OutboxRelay([{ name: 'payment', db: second }], recordingTransport('b', log), options);
  a.start();
  b.start();
  try {
    const ids = await backlog('two-');
    await waitFor(
      'the backlog published',
      () => unpublished(dbs.payment),
      (n) => n === 0,
    );
    const mine = log.filter((s) => s.aggregate.startsWith('two-'));
    expect(mine.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(orderProblems(ids, mine)).toEqual([]);
    expect(mine.filter((s) => s.relay === 'a').length).toBeGreaterThan(0);
    expect(mine.filter((s) => s.relay === 'b').length).toBeGreaterThan(0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}, 120_000);

it('lets the other relay publish the aggregates of a relay whose connections die mid-batch', async () => {
  const log: Sent[] = [];
  const doomed = await openDatabase(
    'payment',
    { dataDir: dbs.dataDir, databaseUrl: `${pg.url}?application_name=doomed_relay` },
    { migrations: paymentMigrations },
  );
  // Its sessions end as a crashed process's would: transactions unmarked, row locks gone.
  let dead: Promise<unknown> | undefined;
  const die = () =>
    (dead ??= dbs.payment.raw(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'doomed_relay'`,
    ));
  // After its 30th publish the first relay's transport answers only once its sessions are gone,
  // so none of its batches in flight can be marked first.
  const record = recordingTransport('a', log);
  let published = 0;
  const dying: Transport = {
    ...record,
    async publish(e) {
      published += 1;
      if (published >= 30) await die();
      await record.publish(e);
    },
  };
  const a = new OutboxRelay([{ name: 'payment', db: doomed }], dying, options);
  const b = new OutboxRelay([{ name: 'payment', db: second }], recordingTransport('b', log), options);
  const ids = await backlog('die-');
  a.start();
  try {
    await waitFor(
      'the first relay to die',
      async () => dead,
      (d) => d !== undefined,
    );
    await dead;
    await a.stop();
    b.start();
    await waitFor(
      'the backlog published',
      () => unpublished(dbs.payment),
      (n) => n === 0,
    );
    const mine = log.filter((s) => s.aggregate.startsWith('die-'));
    // At least once: everything went, and what the dead relay had sent unmarked went again.
    expect(new Set(mine.map((s) => s.id))).toEqual(new Set(ids));
    const byA = new Set(mine.filter((s) => s.relay === 'a').map((s) => s.id));
    expect(byA.size).toBeGreaterThanOrEqual(30);
    expect(mine.filter((s) => s.relay === 'b' && byA.has(s.id)).length).toBeGreaterThan(0);
    expect(
      orderProblems(
        ids,
        mine.filter((s) => s.relay === 'b'),
      ),
    ).toEqual([]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await doomed.destroy();
  }
}, 120_000);
