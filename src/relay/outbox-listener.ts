/**
 * LISTEN/NOTIFY on PostgreSQL: `appendEvent` notifies channel `trip_saga_outbox` (delivered at
 * commit, never for a rollback) with the writer's schema, so the relay wakes at once instead of
 * at its next poll. Polling stays the backstop: a lost connection only costs latency.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { OUTBOX_CHANNEL } from '../outbox/outbox-table';

interface PgNotification {
  channel: string;
  payload?: string;
}
interface PgConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', fn: (msg: PgNotification) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  removeAllListeners(event: string): void;
}

/** Listens on one pooled connection; returns a function that stops listening and releases it. */
export async function listenForOutbox(
  db: Knex,
  onNotify: (schema: string) => void,
  logger?: Logger,
): Promise<() => Promise<void>> {
  const conn = (await db.client.acquireConnection()) as PgConnection;
  conn.on('notification', (msg) => {
    if (msg.channel === OUTBOX_CHANNEL) onNotify(msg.payload ?? '');
  });
  conn.on('error', (err) => logger?.warn({ err }, 'outbox LISTEN connection lost; polling only'));
  await conn.query(`LISTEN ${OUTBOX_CHANNEL}`);
  return async () => {
    conn.removeAllListeners('notification');
    await conn.query(`UNLISTEN ${OUTBOX_CHANNEL}`).catch(() => undefined);
    await db.client.releaseConnection(conn);
  };
}
