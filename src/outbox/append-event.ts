/** The one way any writer emits an event: inside its own transaction, next to the business row. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { NewOutboxEvent } from './event';
import { OUTBOX_TABLE } from './outbox-table';

/**
 * Appends an event to the outbox through `trx`, so it commits (or rolls back) with whatever else
 * that transaction wrote. Returns the event id.
 */
export async function appendEvent(trx: Knex | Knex.Transaction, event: NewOutboxEvent): Promise<string> {
  const eventId = event.eventId ?? randomUUID();
  await trx(OUTBOX_TABLE).insert({
    event_id: eventId,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    event_type: event.eventType,
    payload: JSON.stringify(event.payload ?? null),
    created_at: Date.now(),
    attempts: 0,
    next_attempt_at: 0,
  });
  // On PostgreSQL the table's statement trigger wakes an idle relay at commit (outbox-table.ts).
  return eventId;
}
