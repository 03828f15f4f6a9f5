/**
 * A burst lands in an outbox whose statistics were never gathered (or say it is empty): the
 * planner then believes almost no row is unpublished. A relay round (claim, publish, mark) must
 * still read about a batch's worth of index entries and never scan the table, whatever the depth:
 * measured from PostgreSQL's own counters, so it holds whichever plan a statement gets.
 */
import knexFactory, { type Knex } from 'knex';
import { processBatch } from '../../src/relay/process-batch';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { openDbs, type Dbs } from '../support/outbox-harness';

const UNPUBLISHED = 50_000;
const PUBLISHED = 10_000;
const BATCH = 500;
const policy = { maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 2 };

let pg: TestDatabase;
let dbs: Dbs;
/** One session for the rounds and the counters: its pending counters are flushed before they are read. */
let session: Knex;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_stale');
  dbs = await openDbs(pg.url);
  // No autovacuum, so nothing gathers statistics behind the test's back.
  await dbs.payment.raw('ALTER TABLE outbox SET (autovacuum_enabled = false)');
  await dbs.payment.raw(
    `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, attempts, next_attempt_at)
     SELECT gen_random_uuid(), 'charge', 'charge-' || (n % 200), 'ChargeRefunded', '{}', n, 0, 0
     FROM generate_series(1, ?) AS n`,
    [UNPUBLISHED + PUBLISHED],
  );
  // Published the way the relay does it: an update, leaving dead entries in the unpublished index.
  await dbs.payment.raw('UPDATE outbox SET published_at = 1, attempts = 1 WHERE seq <= ?', [PUBLISHED]);
  session = knexFactory({ client: 'pg', connection: pg.url, searchPath: ['payment'], pool: { min: 1, max: 1 } });
}, 120_000);
afterAll(async () => {
  await session?.destroy();
  await dbs?.close();
  await pg?.drop();
});

interface Counters {
  seqScans: number;
  unpublishedIndexEntriesRead: number;
}

/** The outbox's counters as PostgreSQL's statistics system has them, this session's flushed first. */
async function counters(): Promise<Counters> {
  // Flushed when the session next goes idle, i.e. right after this statement.
  await session.raw('SELECT pg_stat_force_next_flush()');
  return session.transaction(async (trx) => {
    const table = (await trx.raw(
      `SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'outbox' AND schemaname = current_schema()`,
    )) as { rows: Array<{ seq_scan: string }> };
    const index = (await trx.raw(
      `SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'outbox_unpublished_seq' AND schemaname = current_schema()`,
    )) as { rows: Array<{ idx_tup_read: string }> };
    return {
      seqScans: Number(table.rows[0]?.seq_scan),
      unpublishedIndexEntriesRead: Number(index.rows[0]?.idx_tup_read),
    };
  });
}

const round = () =>
  processBatch(session, BATCH, policy, async (chains) => chains.flat().map((r) => ({ seq: r.seq, ok: true })));

it('claims and marks a batch without scanning the outbox, reading a window of the unpublished index', async () => {
  const stats = (await dbs.payment.raw(
    `SELECT count(*) AS n FROM pg_stats WHERE tablename = 'outbox' AND schemaname = current_schema()`,
  )) as { rows: Array<{ n: string }> };
  expect(Number(stats.rows[0]?.n)).toBe(0); // never analyzed: the planner guesses

  // The first round also steps over the dead entries the published rows left, and marks them so
  // that later scans skip them, unless an older snapshot elsewhere on the server still sees them.
  expect((await round()).published).toBe(BATCH);
  const before = await counters();
  for (let i = 0; i < 3; i++) expect((await round()).published).toBe(BATCH);
  const after = await counters();

  expect(after.seqScans - before.seqScans).toBe(0);
  // Each claim's window is 2,000 entries, plus at most the 10,000 + 2,000 entries published rows
  // left dead while some snapshot can still see them (a parallel test's); reading the whole
  // unpublished index, as the plan stale statistics suggest does, is 48,000 or more per round.
  const perRound = (after.unpublishedIndexEntriesRead - before.unpublishedIndexEntriesRead) / 3;
  expect(perRound).toBeGreaterThan(0);
  expect(perRound).toBeLessThan(20_000);
  const left = (await dbs.payment('outbox').whereNull('published_at').count({ n: '*' }).first()) as { n: string };
  expect(Number(left.n)).toBe(UNPUBLISHED - 4 * BATCH);
}, 120_000);
