/**
 * What `npm run compare` counts, each read from where it happens: PostgreSQL's own transaction
 * counters per database, the transactions and row-lock windows each knex handle sends (from its
 * query events), the services' received HTTP requests, the Temporal SDK's RPC counters and the
 * JetStream stream and consumers.
 */
import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';

/** Committed plus rolled-back transactions PostgreSQL counted in `database` (pg_stat_database). */
export async function pgTransactions(admin: Knex, database: string): Promise<number> {
  const r = await admin.raw<{ rows: Array<{ n: number | string }> }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = ?',
    [database],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * PostgreSQL 15 counts a backend's transactions in pg_stat_database only when it flushes its
 * pending statistics: on going idle at most once a second, else by a timer 10 s later
 * (PGSTAT_IDLE_INTERVAL). So the count is read once every backend of the phase had that long.
 */
export const PG_STATS_FLUSH_MS = 11_000;

export async function settledPgTransactions(admin: Knex, database: string): Promise<number> {
  await new Promise((r) => setTimeout(r, PG_STATS_FLUSH_MS));
  return pgTransactions(admin, database);
}

/** What one knex handle sent: transactions (BEGIN or a lone statement) and statements. */
export interface SentCounts {
  transactions: number;
  statements: number;
}

/**
 * Row-lock windows seen on knex handles, in ms: `local` from a transaction's BEGIN to its COMMIT or
 * ROLLBACK being sent (the rows it writes are locked at most that long); `prepared` from the BEGIN
 * of a transaction that was PREPAREd to the COMMIT/ROLLBACK PREPARED that ends it.
 */
export interface LockWindows {
  local: number[];
  prepared: number[];
}

export interface DbWatch {
  counts(): SentCounts;
  windows: LockWindows;
  /** Forgets the windows seen so far (counts keep running: read deltas). */
  resetWindows(): void;
  stop(): void;
}

interface KnexQueryEvent {
  sql?: string;
  /** The connection the statement went out on. */
  __knexUid?: string;
}

const PREPARED_END = /^(?:COMMIT|ROLLBACK) PREPARED '([^']+)'/i;
const PREPARE = /^PREPARE TRANSACTION '([^']+)'/i;

/** Watches the queries of `dbs` (their `query` events) from now on. */
export function watchDbs(dbs: Knex[]): DbWatch {
  const counts: SentCounts = { transactions: 0, statements: 0 };
  const windows: LockWindows = { local: [], prepared: [] };
  // Per connection: when its open transaction began, and whether it was prepared.
  const open = new Map<string, { began: number; prepared: boolean }>();
  const preparedAt = new Map<string, number>();
  const onQuery = (q: KnexQueryEvent) => {
    const sql = (q.sql ?? '').trim();
    const conn = q.__knexUid ?? '';
    const now = performance.now();
    counts.statements++;
    if (/^BEGIN/i.test(sql)) {
      counts.transactions++;
      open.set(conn, { began: now, prepared: false });
      return;
    }
    if (/^(COMMIT|ROLLBACK);?$/i.test(sql)) {
      const tx = open.get(conn);
      open.delete(conn);
      if (tx && !tx.prepared) windows.local.push(now - tx.began);
      return;
    }
    const prepare = PREPARE.exec(sql);
    const tx = open.get(conn);
    if (prepare?.[1] && tx) {
      tx.prepared = true;
      preparedAt.set(prepare[1], tx.began);
      return;
    }
    // A statement on a connection with no BEGIN open runs as a transaction of its own (knex's
    // transaction id is not enough: a builder passed `.transacting(trx)` carries none).
    if (!tx) counts.transactions++;
    const ended = PREPARED_END.exec(sql);
    const began = ended?.[1] ? preparedAt.get(ended[1]) : undefined;
    if (ended?.[1] && began !== undefined) {
      preparedAt.delete(ended[1]);
      windows.prepared.push(now - began);
    }
  };
  for (const db of dbs) db.on('query', onQuery);
  return {
    counts: () => ({ ...counts }),
    windows,
    resetWindows() {
      windows.local.length = 0;
      windows.prepared.length = 0;
    },
    stop() {
      for (const db of dbs) db.off('query', onQuery);
    },
  };
}

/** Messages in a JetStream stream and deliveries (redeliveries included) to its consumers. */
export async function jetStreamCounts(
  nc: NatsConnection,
  stream: string,
  durables: string[],
): Promise<{ published: number; deliveries: number }> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  let deliveries = 0;
  for (const durable of durables) deliveries += (await jsm.consumers.info(stream, durable)).delivered.consumer_seq;
  return { published: info.state.messages, deliveries };
}

/** The Temporal SDK's RPC counters of this process (core's `request` and `long_request`, Prometheus). */
export async function temporalRpcs(metricsUrl: string): Promise<{ requests: number; longPolls: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { requests: sum('temporal_request_total'), longPolls: sum('temporal_long_request_total') };
}
