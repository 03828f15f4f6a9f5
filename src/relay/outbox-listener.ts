/**
 * LISTEN/NOTIFY on PostgreSQL: an insert into `outbox` notifies channel `trip_saga_outbox`
 * (delivered at commit, never for a rollback) with the writer's schema, so an idle relay wakes at
 * once instead of at its next poll. Writers notify only while a relay has said it is idle (the
 * `outbox_wake` row): a NOTIFY serialises the commits that send one, so under load, while the
 * relay is busy or polling hot, nobody sends any. Polling stays the backstop: a lost connection
 * or a missed NOTIFY only costs latency.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { dialectOf } from '../db/knex';
import { OUTBOX_CHANNEL, OUTBOX_WAKE_TABLE } from '../outbox/outbox-table';

/** Tells this database's writers whether to NOTIFY at their next insert (a no-op off PostgreSQL). */
export async function setRelayIdle(db: Knex, idle: boolean): Promise<void> {
  if (dialectOf(db) !== 'pg') return;
  await db(OUTBOX_WAKE_TABLE).where({ id: 1 }).update({ relay_idle: idle });
}

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
