/**
 * Scaling out starts several processes on one PostgreSQL schema at once (service replicas, and
 * the relay, which opens every service's schema): their migrations must not race.
 */
import { openDatabase, type Db } from '../src/db/knex';
import { CATALOGS } from '../src/services/booking/catalog';
import { migrationsFor } from '../src/services/booking-service';
import { createTestDatabase, type TestDatabase } from './support/pg';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('migrate');
});
afterAll(async () => {
  await database?.drop();
});

describe('migrations on PostgreSQL', () => {
  it('apply once when six processes open the same service schema at the same moment', async () => {
    const config = { dataDir: '/nonexistent', databaseUrl: database.url };
    const opened = await Promise.allSettled(
      Array.from({ length: 6 }, () => openDatabase('car', config, { migrations: migrationsFor('car') })),
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

describe('migrations on SQLite', () => {
  it('apply once when six connections open the same fresh file at the same moment', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-migrate-'));
    const opened = await Promise.allSettled(
      Array.from({ length: 6 }, () => openDatabase('car', { dataDir }, { migrations: migrationsFor('car') })),
    );
    const dbs = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(
        opened.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([]);
      const db = dbs[0] as Db;
      expect((await db('knex_migrations').select('name')).map((r) => r.name)).toEqual(
        migrationsFor('car').map((m) => m.name),
      );
      expect(Number((await db('resources').count({ n: '*' }))[0]?.n)).toBe(CATALOGS.car.seed.length);
    } finally {
      await Promise.all(dbs.map((d) => d.destroy()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
