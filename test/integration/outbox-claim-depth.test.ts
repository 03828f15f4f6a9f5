/**
 * The relay's queries with a million unpublished events (OUTBOX_DEPTH_ROWS to change it) and a
 * long published history: each one is driven by an index (no sequential scan of the outbox), and
 * the claim still returns every aggregate's oldest event first. The plans are printed; a copy is
 * in docs/outbox-performance.md.
 */
import type { Knex } from 'knex';
import { candidateQuery, candidateWindow, claimBatch, preferIndexScans } from '../../src/relay/claim-batch';
import { blockedCount, outboxLagMs, parkedCount } from '../../src/relay/outbox-stats';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { openDbs, type Dbs } from '../support/outbox-harness';

const ROWS = Number(process.env.OUTBOX_DEPTH_ROWS ?? 1_000_000);
const AGGREGATES = 200;

let pg: TestDatabase;
let dbs: Dbs;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_depth');
  dbs = await openDbs(pg.url);
  const db = dbs.payment;
  // A published history of 100k events, then ROWS unpublished ones, one parked aggregate.
  const fill = (from: number, to: number, publishedAt: string) =>
    db.raw(
      `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, published_at, attempts, next_attempt_at)
       SELECT gen_random_uuid(), 'charge', 'charge-' || (n % ${AGGREGATES}), 'ChargeRefunded', '{}', n, ${publishedAt}, 0, 0
       FROM generate_series(?::bigint, ?::bigint) AS n`,
      [from, to],
    );
  await fill(1, 100_000, 'n');
  await fill(100_001, 100_000 + ROWS, 'NULL');
  await db.raw(`UPDATE outbox SET parked_at = 1, attempts = 20 WHERE seq = (
    SELECT min(seq) FROM outbox WHERE published_at IS NULL AND aggregate_id = 'charge-7')`);
  await db.raw('ANALYZE outbox');
}, 900_000);
afterAll(async () => {
  await dbs?.close();
  await pg?.drop();
});

async function plan(db: Knex | Knex.Transaction, sql: string, bindings: Array<string | number> = []): Promise<string> {
  const result = (await db.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings)) as {
    rows: Array<{ 'QUERY PLAN': string }>;
  };
  const text = result.rows.map((r) => r['QUERY PLAN']).join('\n');
  console.log(`${sql.trim().slice(0, 60)}…\n${text}`);
  return text;
}

it(`reads the window of oldest unpublished events through the partial indexes with ${ROWS} waiting`, async () => {
  const { sql, bindings } = candidateQuery(candidateWindow(500), Date.now());
  const text = await dbs.payment.transaction(async (trx) => {
    await preferIndexScans(trx);
    return plan(trx, sql, bindings);
  });
  // An ordered walk of the unpublished index, stopped at the window; the parked aggregate found
  // through the waiting index.
  expect(text).toMatch(/Index Scan using outbox_unpublished_seq on outbox/);
  expect(text).toContain('outbox_waiting_aggregate');
  expect(text).not.toMatch(/Seq Scan on outbox|Bitmap Heap Scan on outbox|Sort Key: outbox\.seq/);
});

it('reads the waiting aggregates, the lag, the parked and the blocked counts through indexes too', async () => {
  const db = dbs.payment;
  const waiting = db('outbox')
    .distinct('aggregate_type', 'aggregate_id')
    .whereNull('published_at')
    .whereRaw('(parked_at IS NOT NULL OR next_attempt_at > 0)')
    .whereRaw('(parked_at IS NOT NULL OR next_attempt_at > ?)', [Date.now()])
    .limit(1000)
    .toSQL()
    .toNative();
  for (const text of [
    await plan(db, waiting.sql.replace(/\$\d+/g, '?'), waiting.bindings as Array<string | number>),
    await plan(
      db,
      'SELECT created_at FROM outbox WHERE published_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1',
    ),
  ])
    expect(text).not.toMatch(/Seq Scan on outbox/);
  expect(await parkedCount(db)).toBe(1);
  expect(await blockedCount(db)).toBe(ROWS / AGGREGATES - 1);
  expect(await outboxLagMs(db)).toBeGreaterThan(0);
});

it('claims the heads of every aggregate but the parked one, oldest first, in chains', async () => {
  const chains = await dbs.payment.transaction((trx) => claimBatch(trx, 500));
  const heads = chains.map((c) => c[0]);
  expect(chains.flat()).toHaveLength(500);
  expect(heads.map((h) => h?.aggregate_id)).not.toContain('charge-7');
  // Oldest unpublished first: the first chain opens on the first unpublished event.
  expect(heads[0]?.seq).toBe(100_001);
  for (const chain of chains) {
    const seqs = chain.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(chain.map((r) => r.aggregate_id)).size).toBe(1);
  }
});
