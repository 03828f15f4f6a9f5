/**
 * The idempotency store as the trip API uses it (claims outside a transaction), on PostgreSQL with
 * many connections racing: one claim wins, an expired lock is taken over by exactly one caller.
 */
import knexFactory, { type Knex } from 'knex';
import { fingerprintOf } from '../../src/idempotency/fingerprint';
import { IdempotencyStore } from '../../src/idempotency/store';
import { openApiDatabase } from '../../src/trips/trip-records';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

let database: TestDatabase;
let pools: Knex[] = [];
let now = Date.now();
const LOCK_MS = 30_000;

beforeAll(async () => {
  database = await createTestDatabase('apistore');
  // Creates the "api" schema and its tables.
  await (await openApiDatabase({ dataDir: '', databaseUrl: database.url })).destroy();
  pools = Array.from({ length: 10 }, () =>
    knexFactory({ client: 'pg', connection: database.url, searchPath: ['api'], pool: { min: 0, max: 5 } }),
  );
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
  await database?.drop();
});

const stores = () =>
  pools.map((db) => new IdempotencyStore(db, { lockTimeoutMs: LOCK_MS, retentionMs: 86_400_000, now: () => now }));
const request = (key: string) => ({
  scope: 'alice',
  key,
  method: 'POST',
  path: '/trips',
  fingerprint: fingerprintOf('POST', '/trips', { a: 1 }),
});

describe('the API idempotency store on PostgreSQL with many connections', () => {
  it('lets exactly one of 100 concurrent claims of one key win; the rest see it in flight', async () => {
    const all = stores();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => all[i % all.length]!.claim(request('k-race'))),
    );
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in-flight')).toHaveLength(99);
    const rows = await pools[0]!('idempotency_keys').where({ scope: 'alice', key: 'k-race' });
    expect(rows).toHaveLength(1);
  });

  it('lets exactly one of 50 concurrent callers take over a lock that expired', async () => {
    const all = stores();
    expect((await all[0]!.claim(request('k-takeover'))).kind).toBe('claimed');
    now += LOCK_MS + 1;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => all[i % all.length]!.claim(request('k-takeover'))),
    );
    expect(results.filter((r) => r.kind === 'claimed')).toEqual([{ kind: 'claimed', takeover: true, token: now }]);
  });

  it('replays after completion on every connection, and refuses another fingerprint', async () => {
    const all = stores();
    expect((await all[0]!.claim(request('k-done'))).kind).toBe('claimed');
    await all[1]!.complete('alice', 'k-done', {
      status: 202,
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    const results = await Promise.all(all.map((s) => s.claim(request('k-done'))));
    expect(results.every((r) => r.kind === 'replay' && r.response.body === '{"x":1}')).toBe(true);
    const other = await all[2]!.claim({ ...request('k-done'), fingerprint: fingerprintOf('POST', '/trips', { a: 2 }) });
    expect(other).toEqual({ kind: 'mismatch', method: 'POST', path: '/trips' });
  });

  it('purges only keys older than the retention period', async () => {
    const [store] = stores();
    const old = now;
    expect((await store!.claim(request('k-old'))).kind).toBe('claimed');
    now = old + 86_400_000 - 1000;
    expect((await store!.claim(request('k-young'))).kind).toBe('claimed');
    now = old + 86_400_000 + 1;
    const purged = await store!.purgeExpired();
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await store!.find('alice', 'k-old')).toBeUndefined();
    expect(await store!.find('alice', 'k-young')).toBeDefined();
  });
});
