/**
 * The projection's fold: a choreography event moves the trip view (the TripView every flavour
 * shows). Every change only moves forward (a step's status by rank, the trip's by phase), so a
 * redelivered or reordered event never takes the view back and any order ends in the same view.
 * Pure.
 */
import { STEP_STATUS_RANK, type StepName, type StepStatus, type TripView } from '../shared/trip';
import type { TripStatus } from '../shared/trip-status';
import type { ChoreographyEvent, ChoreographyPayload } from './events';

const TRIP_RANK: Partial<Record<TripStatus, number>> = {
  PENDING: 0,
  BOOKING: 1,
  COMPENSATING: 2,
  CONFIRMED: 3,
  COMPENSATED: 3,
};

/** What an event says: the trip's status, each step's status, and the events that end a trip. */
const EFFECTS: Record<
  ChoreographyEvent,
  { trip?: TripStatus; steps?: Partial<Record<StepName, StepStatus>>; fails?: StepName }
> = {
  TripRequested: { trip: 'BOOKING', steps: { flight: 'RUNNING' } },
  FlightReserved: { steps: { flight: 'DONE', hotel: 'RUNNING' } },
  FlightFailed: { trip: 'COMPENSATED', fails: 'flight' },
  HotelReserved: { steps: { hotel: 'DONE', car: 'RUNNING' } },
  HotelFailed: { trip: 'COMPENSATING', fails: 'hotel', steps: { flight: 'COMPENSATING' } },
  CarReserved: { steps: { car: 'DONE', payment: 'RUNNING' } },
  CarFailed: { trip: 'COMPENSATING', fails: 'car', steps: { hotel: 'COMPENSATING' } },
  PaymentCaptured: { trip: 'CONFIRMED', steps: { payment: 'DONE' } },
  PaymentFailed: { trip: 'COMPENSATING', fails: 'payment', steps: { car: 'COMPENSATING' } },
  CarReleased: { trip: 'COMPENSATING', steps: { car: 'COMPENSATED', hotel: 'COMPENSATING' } },
  HotelReleased: { trip: 'COMPENSATING', steps: { hotel: 'COMPENSATED', flight: 'COMPENSATING' } },
  FlightReleased: { trip: 'COMPENSATED', steps: { flight: 'COMPENSATED' } },
  TripConfirmed: {},
  TripCompensated: {},
};

/** The view after `event`; unknown events leave it as it is. */
export function foldTripEvent(view: TripView, event: string, payload: ChoreographyPayload): TripView {
  const effect = EFFECTS[event as ChoreographyEvent];
  if (!effect) return view;
  const next: TripView = { ...view, steps: { ...view.steps } };
  for (const [step, status] of Object.entries(effect.steps ?? {}) as Array<[StepName, StepStatus]>) {
    if (STEP_STATUS_RANK[status] > STEP_STATUS_RANK[next.steps[step].status]) {
      next.steps[step] = { ...next.steps[step], status };
    }
  }
  if (effect.fails) {
    const error = payload.error ?? { type: 'Error', message: `${effect.fails} failed` };
    next.steps[effect.fails] = { ...next.steps[effect.fails], status: 'FAILED', error };
    next.reason = { step: effect.fails, ...error };
  }
  if (effect.trip && (TRIP_RANK[effect.trip] ?? 0) > (TRIP_RANK[next.status] ?? 0)) next.status = effect.trip;
  return next;
}

/** The trip status an event ends the trip with, if it ends it. */
export function terminalStatusOf(event: string): TripStatus | undefined {
  if (event === 'PaymentCaptured') return 'CONFIRMED';
  if (event === 'FlightFailed' || event === 'FlightReleased') return 'COMPENSATED';
  return undefined;
}
