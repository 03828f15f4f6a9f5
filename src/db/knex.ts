/**
 * One way to open a service's database: a SQLite file under DATA_DIR by default, or a schema of
 * its own in PostgreSQL when DATABASE_URL is set (services never share tables).
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config, ServiceName } from '../config';
import { runMigrations, type Migration } from './migrations';

export type Db = Knex;

// Timestamps (ms) and counters are bigint columns; they fit a JS number, so read them as one.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface OpenDatabaseOptions {
  /** Overrides the schema (PostgreSQL) or file name (SQLite); defaults to the service name. */
  name?: string;
  migrations: Migration[];
}

/** The dialect behind a knex instance, for the few statements that differ. */
export function dialectOf(db: Knex): 'pg' | 'sqlite' {
  const client = String(db.client.config.client);
  return client === 'pg' || client === 'postgres' || client === 'postgresql' ? 'pg' : 'sqlite';
}

/** Opens (and migrates) the database of one service. */
export async function openDatabase(
  service: ServiceName,
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  options: OpenDatabaseOptions,
): Promise<Db> {
  const name = options.name ?? service;
  let db: Knex;
  if (config.databaseUrl) {
    const schema = name.replace(/[^a-z0-9_]/gi, '_');
    const admin = knexFactory({ client: 'pg', connection: config.databaseUrl, pool: { min: 0, max: 1 } });
    try {
      await admin.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    } catch (err) {
      // Two processes may race to create the schema; the loser sees a unique violation.
      if ((err as { code?: string }).code !== '23505') throw err;
    } finally {
      await admin.destroy();
    }
    db = knexFactory({
      client: 'pg',
      connection: config.databaseUrl,
      searchPath: [schema],
      pool: { min: 0, max: 10 },
    });
  } else {
    fs.mkdirSync(config.dataDir, { recursive: true });
    db = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(config.dataDir, `${name}.sqlite`) },
      useNullAsDefault: true,
      pool: {
        afterCreate: (conn: { pragma: (s: string) => unknown }, done: (err: Error | null, c: unknown) => void) => {
          // WAL lets readers (the audit endpoints, the relay) work while a writer commits.
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        },
      },
    });
  }
  await runMigrations(db, options.migrations);
  return db;
}
