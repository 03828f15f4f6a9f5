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

/** The part of a better-sqlite3 connection the statement cache wraps. */
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): unknown;
}

/** Prepared statements kept per SQLite connection: a service's request path has a few dozen. */
const STATEMENT_CACHE_SIZE = 256;
const ONE_OFF = /^\s*(savepoint|release|rollback to)\b/i;

/**
 * knex prepares every query's SQL again on each call, which showed as a tenth of a booking
 * service's CPU in `npm run bench -- --cpu-prof`. The same text gets the same statement back
 * (better-sqlite3 runs each to completion, synchronously, so one is never in use twice); the
 * least recently used is dropped past the cap; savepoints are not kept. No query of the project sets safeIntegers, the one
 * per-statement setting knex changes.
 */
export function cacheStatements(conn: SqliteConnection, size = STATEMENT_CACHE_SIZE): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (source: string) => {
    // knex names every savepoint afresh (trx1, trx2, …): no point keeping those.
    if (ONE_OFF.test(source)) return prepare(source);
    let statement = cache.get(source);
    if (statement === undefined) {
      statement = prepare(source);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(source);
    }
    cache.set(source, statement);
    return statement;
  };
}

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
        afterCreate: (conn: SqliteConnection, done: (err: Error | null, c: unknown) => void) => {
          // WAL lets readers (the audit endpoints, the relay) work while a writer commits.
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('synchronous = NORMAL');
          cacheStatements(conn);
          done(null, conn);
        },
      },
    });
  }
  await runMigrations(db, options.migrations);
  return db;
}
