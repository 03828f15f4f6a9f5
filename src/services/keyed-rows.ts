/**
 * The business rows a forward request creates and its compensation undoes (reservations,
 * charges): one row per Idempotency-Key, a status that moves once from active to undone. Their
 * common columns and the status-guarded undo live here, for the inventory and payment services.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { appendEvent } from '../outbox/append-event';

/** The columns every keyed row has; a service's own columns come in between. */
export interface KeyedRow<Status extends string> {
  id: string;
  trip_id: string;
  idempotency_key: string;
  status: Status;
  created_at: number;
  updated_at: number;
}

/** The outbox event that announces a change of a keyed row, in the transaction that made it. */
export interface RowEvent<Row> {
  aggregateType: string;
  eventType: string;
  payload: (row: Row) => unknown;
}

/** Appends `event` about `row` to the outbox through `trx`. */
export function announceRow<Row extends KeyedRow<string>>(
  trx: Knex.Transaction,
  row: Row,
  event: RowEvent<Row>,
): Promise<string> {
  return appendEvent(trx, {
    aggregateType: event.aggregateType,
    aggregateId: row.id,
    eventType: event.eventType,
    payload: event.payload(row),
  });
}

/** Inserts the row a forward request creates and its outbox event, in one transaction; returns the row. */
export async function insertKeyedRow<Row extends KeyedRow<string>>(
  trx: Knex.Transaction,
  table: string,
  fields: Omit<Row, 'id' | 'created_at' | 'updated_at'>,
  event: RowEvent<Row>,
): Promise<Row> {
  const now = Date.now();
  const row = { id: randomUUID(), ...fields, created_at: now, updated_at: now } as Row;
  await trx(table).insert(row);
  await announceRow(trx, row, event);
  return row;
}

/** Creates a keyed table: id, trip_id, idempotency_key (unique), `columns`, status, created_at, updated_at. */
export function createKeyedTable(db: Knex, name: string, columns: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  return db.schema.createTable(name, (t) => {
    t.string('id', 36).primary();
    t.string('trip_id', 255).notNullable().index();
    t.string('idempotency_key', 255).notNullable().unique();
    columns(t);
    t.string('status', 16).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

/** What undoing the row of a forward key found: no row, a row undone before, or the row it undid now. */
export type UndoResult<Row> = { kind: 'none' } | { kind: 'already'; row: Row } | { kind: 'undone'; row: Row };

/**
 * Moves the row `forwardKey` created from `active` to `undone`, once. The status guard in the
 * WHERE clause makes two undos racing with different keys undo it once: the loser's update waits
 * for the winner's row lock and then matches nothing, and reports the row as already undone.
 */
export async function undoKeyedRow<Status extends string, Row extends KeyedRow<Status>>(
  trx: Knex.Transaction,
  table: string,
  forwardKey: string,
  status: { active: Status; undone: Status },
): Promise<UndoResult<Row>> {
  const row = (await trx(table).where({ idempotency_key: forwardKey }).first()) as Row | undefined;
  if (!row) return { kind: 'none' };
  if (row.status === status.undone) return { kind: 'already', row };
  const updated = { ...row, status: status.undone, updated_at: Date.now() };
  const changed = await trx(table)
    .where({ id: row.id, status: status.active })
    .update({ status: updated.status, updated_at: updated.updated_at });
  if (changed === 0) {
    const now = ((await trx(table).where({ id: row.id }).first()) as Row | undefined) ?? row;
    return { kind: 'already', row: now };
  }
  return { kind: 'undone', row: updated };
}
