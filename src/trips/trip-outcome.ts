/**
 * The saga's end record: the trip row (status and view) and its TripConfirmed / TripCompensated /
 * TripCancelled / TripNeedsAttention event commit in one transaction on the trip API's database.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { TripRequest, TripView } from '../shared/trip';
import type { TripStatus } from '../shared/trip-status';
import { claimOwnerless, findTrip, insertTrip, updateTripView } from './trip-records';
import { appendEvent } from '../outbox/append-event';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

const EVENT_OF: Partial<Record<TripStatus, string>> = {
  CONFIRMED: 'TripConfirmed',
  COMPENSATED: 'TripCompensated',
  CANCELLED: 'TripCancelled',
  // A human must undo by hand: the notifications service emails the operators (OPS_EMAIL).
  NEEDS_ATTENTION: 'TripNeedsAttention',
};

/**
 * Records a terminal view; a retried call appends no second event (its id is derived from the
 * outcome). `principal` (the owner, from the run's memo) names the owner of a row this record
 * is the first to write, or that an older writer left without one.
 */
export async function recordTripOutcome(
  db: Knex,
  view: TripView,
  request?: TripRequest,
  principal?: string,
): Promise<{ eventId?: string }> {
  const eventType = EVENT_OF[view.status];
  return db.transaction(async (trx) => {
    const existing = await findTrip(trx, view.tripId);
    if (!existing) {
      if (!request) throw new Error(`trip ${view.tripId} is not recorded and no request was given`);
      await insertTrip(trx, { tripId: view.tripId, principal: principal ?? null, request, status: view.status });
    } else if (existing.principal === null && principal !== undefined) {
      await claimOwnerless(trx, view.tripId, principal);
    }
    // A stale outcome (CONFIRMED arriving after the CANCELLED that followed it) changes nothing
    // and announces nothing.
    if (!(await updateTripView(trx, view))) return {};
    if (!eventType) return {};
    const eventId = outcomeEventId(view.tripId, eventType);
    if (await trx(OUTBOX_TABLE).where({ event_id: eventId }).first()) return { eventId };
    await appendEvent(trx, {
      eventId,
      aggregateType: 'trip',
      aggregateId: view.tripId,
      eventType,
      payload: {
        tripId: view.tripId,
        customerId: existing?.customerId ?? request?.customerId,
        status: view.status,
        reason: view.reason,
        steps: view.steps,
      },
    });
    return { eventId };
  });
}

/** A UUID (v5-shaped) derived from the trip and outcome, so the same outcome always has the same event id. */
export function outcomeEventId(tripId: string, eventType: string): string {
  const hex = createHash('sha1').update(`trip-outcome:${tripId}:${eventType}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
