/**
 * Starts a choreographed trip: the trip's row (flavour `choreographed`) and its TripRequested
 * event commit in one transaction on the trip API's database; the relay publishes the event and
 * the flight service takes it from there. Starting an id again attaches to that trip.
 */
import type { Knex } from 'knex';
import type { TripRequest } from '../shared/trip';
import { findTrip, insertTrip } from '../trips/trip-records';
import { START_EVENT } from './subscriptions';
import { emitChoreographyEvent } from './participant';
import { CHOREOGRAPHED } from './projection';

/** Returns the flavour the id already had (nothing started then), or undefined when it started it. */
export async function requestChoreographedTrip(
  db: Knex,
  trip: { tripId: string; request: TripRequest; principal: string | null },
): Promise<{ existingFlavor?: string }> {
  return db.transaction(async (trx) => {
    // The insert decides (a concurrent start of the same id waits for it, then inserts nothing).
    if (await insertTrip(trx, { ...trip, status: 'PENDING', flavor: CHOREOGRAPHED })) {
      await emitChoreographyEvent(trx, START_EVENT, { tripId: trip.tripId, request: trip.request });
      return {};
    }
    return { existingFlavor: (await findTrip(trx, trip.tripId))?.flavor };
  });
}
