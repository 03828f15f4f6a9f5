/**
 * Scaling out starts several processes on one database at once (service replicas, and the relay,
 * which opens every service's database): their migrations must not race, on PostgreSQL (one
 * schema) or on SQLite (one file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../src/db/knex';
import { CATALOGS } from '../../src/services/booking/catalog';
import { migrationsFor } from '../../src/services/booking-service';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

let database: TestDatabase;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-migrate-'));
beforeAll(async () => {
  database = await createTestDatabase('migrate');
});
afterAll(async () => {
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe.each([
  [
    'PostgreSQL',
    'six processes open the same service schema',
    () => ({ dataDir: '/nonexistent', databaseUrl: database.url }),
  ],
  ['SQLite', 'six connections open the same fresh file', () => ({ dataDir })],
])('migrations on %s', (_backend, who, config) => {
  it(`apply once when ${who} at the same moment`, async () => {
    const opened = await Promise.allSettled(
      Array.from({ length: 6 }, () => openDatabase('car', config(), { migrations: migrationsFor('car') })),
    );
    const dbs = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(
        opened.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
      const db = dbs[0] as Db;
      const applied = await db('knex_migrations').select('name');
      expect(applied.map((r) => r.name)).toEqual(migrationsFor('car').map((m) => m.name));
      // Seeded once, not six times.
      const seeded = await db('resources').count({ n: '*' });
      expect(Number(seeded[0]?.n)).toBe(CATALOGS.car.seed.length);
    } finally {
      await Promise.all(dbs.map((d) => d.destroy()));
    }
  });
});
