/**
 * The choreographed trip's events: names and payloads. Every event of one trip is an event of the
 * aggregate (`trip-choreography`, tripId), so the relay publishes them in order on one subject
 * and every consumer applies them in that order.
 */
import type { StepName, TripRequest } from '../shared/trip';

export const CHOREOGRAPHY_AGGREGATE = 'trip-choreography';

export const CHOREOGRAPHY_EVENTS = [
  'TripRequested',
  'FlightReserved',
  'FlightFailed',
  'HotelReserved',
  'HotelFailed',
  'CarReserved',
  'CarFailed',
  'PaymentCaptured',
  'PaymentFailed',
  'CarReleased',
  'HotelReleased',
  'FlightReleased',
  'TripConfirmed',
  'TripCompensated',
] as const;
export type ChoreographyEvent = (typeof CHOREOGRAPHY_EVENTS)[number];

/** Every choreography event carries the trip and its request: each service acts on it alone. */
export interface ChoreographyPayload {
  tripId: string;
  request: TripRequest;
  /** On a `…Failed` event: why the step was refused. */
  error?: { type: string; message: string };
  /** On a `…Failed` event: the step that failed (carried along the compensation chain). */
  failedStep?: StepName;
}

/** What each step emits when its forward call succeeds, fails, or its compensation ran. */
export const STEP_EVENTS: Record<
  StepName,
  { done: ChoreographyEvent; failed: ChoreographyEvent; undone?: ChoreographyEvent }
> = {
  flight: { done: 'FlightReserved', failed: 'FlightFailed', undone: 'FlightReleased' },
  hotel: { done: 'HotelReserved', failed: 'HotelFailed', undone: 'HotelReleased' },
  car: { done: 'CarReserved', failed: 'CarFailed', undone: 'CarReleased' },
  payment: { done: 'PaymentCaptured', failed: 'PaymentFailed' },
};
