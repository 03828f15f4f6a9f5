/**
 * The consumer side of exactly-once: an inbox table keyed by event id. A consumer enters the
 * event in the same transaction as its effect, so a redelivered event finds its row and is skipped.
 */
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations';
import type { EventEnvelope } from '../outbox/event';
import { eventColumns } from '../outbox/outbox-table';

/** Creates an inbox table named `table`: one row per event ever applied, in the order applied. */
export function createInboxTable(db: Knex, table: string): Promise<void> {
  return db.schema.createTable(table, (t) => {
    eventColumns(t);
    t.string('source', 32).notNullable();
    t.bigInteger('event_created_at').notNullable();
    t.bigInteger('received_at').notNullable();
  });
}

/** A migration creating an inbox table named `table` (one per consumer and database). */
export function inboxMigration(name: string, table: string): Migration {
  return { name, up: (db) => createInboxTable(db, table) };
}

/** The inbox row that records `event` as applied at `now`. */
export const inboxRow = (event: EventEnvelope, now: number) => ({
  event_id: event.id,
  source: event.source,
  aggregate_type: event.aggregateType,
  aggregate_id: event.aggregateId,
  event_type: event.type,
  event_created_at: event.createdAt,
  received_at: now,
});

/**
 * Enters `event` into the inbox through `trx`; false when it is already there (a redelivery). A
 * concurrent delivery of the same event makes the insert wait for it and then fail unique,
 * which rolls the caller's transaction back: see `isUniqueViolation`.
 */
export async function enterInbox(trx: Knex.Transaction, table: string, event: EventEnvelope): Promise<boolean> {
  if (await trx(table).where({ event_id: event.id }).first()) return false;
  await trx(table).insert(inboxRow(event, Date.now()));
  return true;
}

/** A unique-key violation on PostgreSQL or SQLite: the same event committed concurrently. */
export const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || /UNIQUE constraint failed/i.test(String(e.message));
};

/** The inbox of the choreographed trip's consumers (each booking service and the trip API). */
export const CHOREOGRAPHY_INBOX_TABLE = 'choreography_inbox';

/** Appended to the migrations of every database whose owner consumes choreography events. */
export const choreographyInboxMigration = inboxMigration('0200_choreography_inbox', CHOREOGRAPHY_INBOX_TABLE);
