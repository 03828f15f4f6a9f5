/**
 * Exactly-once effect for an at-least-once stream: the inbox row (keyed by event id) and the
 * email row commit in one transaction, so a redelivered event finds its inbox row and is skipped.
 * `applyEvent` takes one event (the webhook); `applyEvents` a batch in one transaction (the
 * JetStream consumer), in the order given.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { EventEnvelope } from '../../outbox/event';
import { enterInbox, inboxRow, isUniqueViolation } from '../../inbox/inbox';
import type { ApplyOutcome } from '../../inbox/jetstream-consumer';
import { emailForEvent, type EmailOptions } from './email-for-event';
import { NOTIFICATIONS_INBOX_TABLE } from './migrations';

export { envelopeSchema } from '../../inbox/jetstream-consumer';

function emailRow(event: EventEnvelope, now: number, options: EmailOptions) {
  const email = emailForEvent(event, options);
  return email
    ? {
        id: randomUUID(),
        event_id: event.id,
        trip_id: email.tripId,
        kind: email.kind,
        recipient: email.recipient,
        subject: email.subject,
        body: email.body,
        created_at: now,
      }
    : undefined;
}

/**
 * Applies `events` in one transaction, inbox rows in the order given: an event already in the
 * inbox (or twice in the batch) is a duplicate and changes nothing. All or nothing: a failure
 * rolls the whole batch back (the caller then applies its events one by one).
 */
export async function applyEvents(
  db: Knex,
  events: EventEnvelope[],
  options: EmailOptions = {},
): Promise<Array<Extract<ApplyOutcome, 'applied' | 'duplicate'>>> {
  if (events.length === 0) return [];
  return db.transaction(async (trx) => {
    const now = Date.now();
    const seen = new Set<string>();
    const firsts = events.filter((e) => !seen.has(e.id) && seen.add(e.id));
    const inserted = (await trx(NOTIFICATIONS_INBOX_TABLE)
      .insert(firsts.map((e) => inboxRow(e, now)))
      .onConflict('event_id')
      .ignore()
      .returning('event_id')) as Array<{ event_id: string }>;
    const fresh = new Set(inserted.map((r) => r.event_id));
    const emails = firsts.filter((e) => fresh.has(e.id)).flatMap((e) => emailRow(e, now, options) ?? []);
    if (emails.length > 0) await trx('emails').insert(emails);
    return events.map((e) => (fresh.delete(e.id) ? 'applied' : 'duplicate'));
  });
}

export async function applyEvent(
  db: Knex,
  event: EventEnvelope,
  options: EmailOptions = {},
): Promise<Extract<ApplyOutcome, 'applied' | 'duplicate'>> {
  try {
    return await db.transaction(async (trx) => {
      if (!(await enterInbox(trx, NOTIFICATIONS_INBOX_TABLE, event))) return 'duplicate';
      const email = emailRow(event, Date.now(), options);
      if (email) await trx('emails').insert(email);
      return 'applied' as const;
    });
  } catch (err) {
    // A concurrent delivery of the same event committed first (the unique key waited for it).
    if (isUniqueViolation(err)) return 'duplicate';
    throw err;
  }
}
