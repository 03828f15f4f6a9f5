/** The one idempotency store, on SQLite and on the machine's PostgreSQL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import knexFactory from 'knex';
import { openDatabase, type Db } from '../../src/db/knex';
import { idempotencyMigration, IdempotencyStore } from '../../src/idempotency/store';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

const backends = ['sqlite', 'postgres'] as const;

describe.each(backends)('IdempotencyStore on %s', (backend) => {
  let db: Db;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let clock = 1_000_000;
  let store: IdempotencyStore;
  const req = (key: string, fingerprint = 'fp-1') => ({
    scope: 'alice',
    key,
    method: 'POST',
    path: '/trips',
    fingerprint,
  });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-store-'));
    if (backend === 'postgres') pg = await createTestDatabase('store');
    db = await openDatabase('api', { dataDir, databaseUrl: pg?.url }, { migrations: [idempotencyMigration] });
    store = new IdempotencyStore(db, { lockTimeoutMs: 30_000, retentionMs: 86_400_000, now: () => clock });
  });
  afterAll(async () => {
    await db?.destroy();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('claims a new key once, reports it in flight, then replays the stored response', async () => {
    const key = randomUUID();
    expect(await store.claim(req(key))).toEqual({ kind: 'claimed', takeover: false, token: clock });
    expect(await store.claim(req(key))).toMatchObject({ kind: 'in-flight' });
    const response = { status: 202, headers: { 'content-type': 'application/json' }, body: '{"a":1}' };
    await store.complete('alice', key, response);
    expect(await store.claim(req(key))).toEqual({ kind: 'replay', response });
  });

  it('refuses the key for a different request, and still replays the original afterwards', async () => {
    const key = randomUUID();
    await store.claim(req(key));
    await store.complete('alice', key, { status: 201, headers: {}, body: 'x' });
    expect(await store.claim(req(key, 'fp-other'))).toEqual({ kind: 'mismatch', method: 'POST', path: '/trips' });
    expect(await store.claim(req(key))).toMatchObject({ kind: 'replay' });
  });

  it('scopes keys per principal', async () => {
    const key = randomUUID();
    expect((await store.claim(req(key))).kind).toBe('claimed');
    expect((await store.claim({ ...req(key), scope: 'bob' })).kind).toBe('claimed');
  });

  it('lets a successor take over a claim whose lock expired, exactly once', async () => {
    const key = randomUUID();
    await store.claim(req(key));
    clock += 29_000;
    expect((await store.claim(req(key))).kind).toBe('in-flight');
    clock += 2_000;
    expect(await store.claim(req(key))).toEqual({ kind: 'claimed', takeover: true, token: clock });
    expect((await store.claim(req(key))).kind).toBe('in-flight');
  });

  it('fences a claim taken over: the old owner can neither complete nor abandon the successor’s claim', async () => {
    const key = randomUUID();
    const first = await store.claim(req(key));
    clock += 31_000;
    const second = await store.claim(req(key));
    if (first.kind !== 'claimed' || second.kind !== 'claimed') throw new Error('not claimed');
    const late = { status: 202, headers: {}, body: 'late' };
    expect(await store.complete('alice', key, late, undefined, first.token)).toBe(false);
    await store.abandon('alice', key, first.token);
    expect((await store.claim(req(key))).kind).toBe('in-flight');
    const own = { status: 201, headers: {}, body: 'own' };
    expect(await store.complete('alice', key, own, undefined, second.token)).toBe(true);
    expect(await store.complete('alice', key, late, undefined, second.token)).toBe(false);
    expect(await store.claim(req(key))).toEqual({ kind: 'replay', response: own });
  });

  it('lets the same request take an abandoned claim over at once, and still refuses another body', async () => {
    const key = randomUUID();
    const first = await store.claim(req(key));
    if (first.kind !== 'claimed') throw new Error('not claimed');
    clock += 1;
    await store.abandon('alice', key, first.token);
    expect(await store.claim(req(key, 'fp-other'))).toEqual({ kind: 'mismatch', method: 'POST', path: '/trips' });
    expect(await store.claim(req(key))).toEqual({ kind: 'claimed', takeover: true, token: clock });
    expect((await store.claim(req(key))).kind).toBe('in-flight');
  });

  it('refuses a request whose key was tombstoned, and tombstones only unused keys', async () => {
    const key = randomUUID();
    expect(await store.tombstone('alice', key)).toBe(true);
    expect(await store.claim(req(key))).toEqual({ kind: 'tombstoned' });
    const used = randomUUID();
    await store.claim(req(used));
    expect(await store.tombstone('alice', used)).toBe(false);
  });

  it('purges keys older than the retention period and keeps the rest', async () => {
    const old = randomUUID();
    await store.claim(req(old));
    clock += 86_400_000 + 1;
    const fresh = randomUUID();
    await store.claim(req(fresh));
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await store.find('alice', old)).toBeUndefined();
    expect(await store.find('alice', fresh)).toBeDefined();
  });
});

describe('IdempotencyStore under concurrency on PostgreSQL', () => {
  it('gives a key to exactly one of 40 concurrent claimers on separate connections', async () => {
    const pg = await createTestDatabase('race');
    const dbs: Db[] = [];
    try {
      const setup = await openDatabase(
        'api',
        { dataDir: os.tmpdir(), databaseUrl: pg.url },
        { migrations: [idempotencyMigration] },
      );
      dbs.push(setup);
      // Each claimer has a pool of its own, so the race is between real backend connections.
      for (let i = 0; i < 8; i++) {
        dbs.push(knexFactory({ client: 'pg', connection: pg.url, searchPath: ['api'], pool: { min: 5, max: 5 } }));
      }
      const key = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          new IdempotencyStore(dbs[1 + (i % 8)] as Db, { lockTimeoutMs: 60_000, retentionMs: 86_400_000 }).claim({
            scope: 'alice',
            key,
            method: 'POST',
            path: '/trips',
            fingerprint: 'fp',
          }),
        ),
      );
      expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'in-flight')).toHaveLength(39);
    } finally {
      await Promise.all(dbs.map((d) => d.destroy()));
      await pg.drop();
    }
  });
});
