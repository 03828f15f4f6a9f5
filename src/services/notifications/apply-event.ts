/**
 * Exactly-once effect for an at-least-once stream: the inbox row (keyed by event id) and the
 * email row commit in one transaction, so a redelivered event finds its inbox row and is skipped.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { enterInbox, isUniqueViolation } from '../../inbox/inbox';
import type { EventEnvelope } from '../../outbox/event';
import { emailForEvent } from './email-for-event';

export { envelopeSchema } from '../../inbox/jetstream-consumer';

export type ApplyOutcome = 'applied' | 'duplicate';

export async function applyEvent(db: Knex, event: EventEnvelope): Promise<ApplyOutcome> {
  try {
    return await db.transaction(async (trx) => {
      if (!(await enterInbox(trx, 'inbox', event))) return 'duplicate';
      const now = Date.now();
      const email = emailForEvent(event);
      if (email) {
        await trx('emails').insert({
          id: randomUUID(),
          event_id: event.id,
          trip_id: email.tripId,
          kind: email.kind,
          recipient: email.recipient,
          subject: email.subject,
          body: email.body,
          created_at: now,
        });
      }
      return 'applied' as const;
    });
  } catch (err) {
    // A concurrent delivery of the same event committed first (the unique key waited for it).
    if (isUniqueViolation(err)) return 'duplicate';
    throw err;
  }
}
