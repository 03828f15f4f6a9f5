/** The one way any writer emits an event: inside its own transaction, next to the business row. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { NewOutboxEvent } from './event';
import { dialectOf } from '../db/knex';
import { currentTraceparent } from '../observability/trace-context';
import { NOTIFY_SETTING, OUTBOX_CHANNEL, OUTBOX_TABLE } from './outbox-table';

/**
 * Appends an event to the outbox through `trx`, so it commits (or rolls back) with whatever else
 * that transaction wrote. Returns the event id. `notify: false` skips the wake-up NOTIFY, which a
 * transaction to be PREPAREd may not send (the caller notifies after COMMIT PREPARED).
 */
export async function appendEvent(
  trx: Knex | Knex.Transaction,
  event: NewOutboxEvent,
  options: { notify?: boolean } = {},
): Promise<string> {
  const eventId = event.eventId ?? randomUUID();
  const traceparent = currentTraceparent();
  if (options.notify === false && dialectOf(trx) === 'pg')
    await trx.raw(`SELECT set_config('${NOTIFY_SETTING}', 'off', true)`);
  await trx(OUTBOX_TABLE).insert({
    event_id: eventId,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    event_type: event.eventType,
    payload: JSON.stringify(event.payload ?? null),
    created_at: Date.now(),
    attempts: 0,
    next_attempt_at: 0,
    // Only with tracing on: with it off the insert is the one a database not yet migrated takes.
    ...(traceparent && { traceparent }),
  });
  // On PostgreSQL the table's statement trigger wakes an idle relay at commit (outbox-table.ts).
  return eventId;
}

/** Wakes the relay for the current schema (after a commit that could not notify itself). */
export async function notifyOutbox(db: Knex): Promise<void> {
  if (dialectOf(db) === 'pg') await db.raw('SELECT pg_notify(?, current_schema())', [OUTBOX_CHANNEL]);
}
