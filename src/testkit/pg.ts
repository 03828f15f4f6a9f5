/** A throwaway PostgreSQL database on the machine's server (127.0.0.1:5432, trust auth) per test suite. */
import { randomUUID } from 'node:crypto';
import knexFactory from 'knex';

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates the database on `adminUrl`'s server (default: the machine's PostgreSQL). */
export async function createTestDatabase(label = 'test', adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  const name = `trip_saga_${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`.toLowerCase();
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE ??', [name]);
  } finally {
    await admin.destroy();
  }
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const a = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
      try {
        await a.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
      } finally {
        await a.destroy();
      }
    },
  };
}
