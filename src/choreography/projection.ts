/**
 * The choreographed trip's projection, on the trip API's database: each event, once (inbox), folds
 * into the trip's stored view (the trips table every reader uses). The event that ends the trip
 * records its outcome through the same end record as the orchestrated saga (`recordTripOutcome`),
 * so the same TripConfirmed/TripCompensated event leaves the API's outbox and the same email goes out.
 */
import type { Knex } from 'knex';
import { CHOREOGRAPHY_INBOX_TABLE, enterInbox, isUniqueViolation } from '../inbox/inbox';
import type { EventEnvelope } from '../outbox/event';
import { findTrip, insertTrip, updateTripView } from '../trips/trip-records';
import { recordTripOutcome } from '../trips/trip-outcome';
import { CHOREOGRAPHY_AGGREGATE, type ChoreographyPayload } from './events';
import { UndeclaredEventError } from './participant';
import { subscriptionOf } from './subscriptions';
import { foldTripEvent, terminalStatusOf } from './trip-fold';
import { initialView } from '../shared/trip';

export const CHOREOGRAPHED = 'choreographed';

const OUTCOME_EVENT = { CONFIRMED: 'TripConfirmed', COMPENSATED: 'TripCompensated' } as const;

/** Applies one event to the projection; `duplicate` when its inbox row was already there. */
export async function projectEvent(db: Knex, event: EventEnvelope): Promise<'applied' | 'duplicate' | 'ignored'> {
  const subscription =
    event.aggregateType === CHOREOGRAPHY_AGGREGATE ? subscriptionOf('projection', event.type) : undefined;
  if (!subscription) return 'ignored';
  const payload = event.payload as ChoreographyPayload;
  try {
    return await db.transaction(async (trx) => {
      if (!(await enterInbox(trx, CHOREOGRAPHY_INBOX_TABLE, event))) return 'duplicate';
      let record = await findTrip(trx, payload.tripId);
      if (!record) {
        // Started by a writer that did not record it here (another API's database): record it now.
        await insertTrip(trx, {
          tripId: payload.tripId,
          principal: null,
          request: payload.request,
          status: 'PENDING',
          flavor: CHOREOGRAPHED,
        });
        record = await findTrip(trx, payload.tripId);
      }
      const before = record?.view ?? initialView(payload.tripId);
      const view = foldTripEvent(before, event.type, payload);
      const ended = terminalStatusOf(event.type);
      if (ended && view.status === ended) {
        const outcome = OUTCOME_EVENT[ended as keyof typeof OUTCOME_EVENT];
        if (!subscription.emits.includes(outcome)) throw new UndeclaredEventError('projection', event.type, outcome);
        await recordTripOutcome(trx, view, payload.request);
      } else {
        await updateTripView(trx, view);
      }
      return 'applied' as const;
    });
  } catch (err) {
    if (isUniqueViolation(err) && (await db(CHOREOGRAPHY_INBOX_TABLE).where({ event_id: event.id }).first())) {
      return 'duplicate';
    }
    throw err;
  }
}
