/**
 * Exactly-once effect for an at-least-once stream: the inbox row (keyed by event id) and the
 * email row commit in one transaction, so a redelivered event finds its inbox row and is skipped.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { EventEnvelope } from '../../outbox/event';
import { emailForEvent, type EmailOptions } from './email-for-event';

export const envelopeSchema = z.object({
  id: z.string().uuid(),
  source: z.string().min(1).max(32),
  aggregateType: z.string().min(1).max(64),
  aggregateId: z.string().min(1).max(255),
  type: z.string().min(1).max(64),
  payload: z.unknown(),
  createdAt: z.number().int().nonnegative(),
});

export type ApplyOutcome = 'applied' | 'duplicate';

const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || /UNIQUE constraint failed/i.test(String(e.message));
};

export async function applyEvent(db: Knex, event: EventEnvelope, options: EmailOptions = {}): Promise<ApplyOutcome> {
  try {
    return await db.transaction(async (trx) => {
      if (await trx('inbox').where({ event_id: event.id }).first()) return 'duplicate';
      const now = Date.now();
      await trx('inbox').insert({
        event_id: event.id,
        source: event.source,
        aggregate_type: event.aggregateType,
        aggregate_id: event.aggregateId,
        event_type: event.type,
        event_created_at: event.createdAt,
        received_at: now,
      });
      const email = emailForEvent(event, options);
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
