/**
 * The trip contract (docs/architecture.md): the request, the view every reader gets, and the ids
 * derived from a trip's id. Pure and deterministic: the workflow bundle imports it.
 */
import { STEPS, type StepName } from './saga-steps';
import type { TripStatus } from './trip-status';

export interface FlightRequest {
  flightNumber: string;
  date: string;
  seats: number;
}
export interface HotelRequest {
  hotelId: string;
  checkIn: string;
  checkOut: string;
  rooms: number;
}
export interface CarRequest {
  location: string;
  pickUp: string;
  dropOff: string;
}
export interface PaymentRequest {
  token: string;
  amountCents: number;
  currency: string;
}
export interface TripRequest {
  customerId: string;
  flight: FlightRequest;
  hotel: HotelRequest;
  car: CarRequest;
  payment: PaymentRequest;
}

/** The steps themselves (names, activities, routes, summaries) are in saga-steps.ts. */
export { STEPS, type StepName } from './saga-steps';

export type StepStatus =
  'PENDING' | 'RUNNING' | 'DONE' | 'FAILED' | 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED';

/**
 * How far along a step is: it moves PENDING → RUNNING → DONE|FAILED → COMPENSATING →
 * COMPENSATED|COMPENSATION_FAILED, so a newer view of a step never has a lower rank.
 */
export const STEP_STATUS_RANK: Readonly<Record<StepStatus, number>> = {
  PENDING: 0,
  RUNNING: 1,
  DONE: 2,
  FAILED: 2,
  COMPENSATING: 3,
  COMPENSATED: 4,
  COMPENSATION_FAILED: 4,
};

export interface StepView {
  status: StepStatus;
  /** The idempotency key of the forward call: `<workflowId>:<step>`. */
  idempotencyKey: string;
  error?: { type: string; message: string };
}

export interface TripView {
  tripId: string;
  workflowId: string;
  status: TripStatus;
  steps: Record<StepName, StepView>;
  /** Why the trip did not confirm, when it did not. */
  reason?: { step?: StepName; type: string; message: string };
}

/** `trip-<id>`: the workflow id of a trip, which is also its id in every service. */
export const workflowIdFor = (tripId: string): string => (tripId.startsWith('trip-') ? tripId : `trip-${tripId}`);

/** The forward idempotency key of one step. */
export const stepKey = (workflowId: string, step: StepName): string => `${workflowId}:${step}`;

/** The idempotency key of a step's compensation: `<workflowId>:<step>:undo`. */
export const undoKey = (workflowId: string, step: StepName): string => `${stepKey(workflowId, step)}:undo`;

/** The view of a trip before its first step: every step PENDING under its forward key. */
export function initialView(workflowId: string): TripView {
  const steps = {} as TripView['steps'];
  for (const step of STEPS) steps[step] = { status: 'PENDING', idempotencyKey: stepKey(workflowId, step) };
  return { tripId: workflowId, workflowId, status: 'PENDING', steps };
}

/** The workflow id of the cancellation of a trip: one per trip, so a retried cancel attaches. */
export const cancellationWorkflowId = (tripId: string): string => `cancel-${tripId}`;

/** The trip a cancellation run undoes (the inverse of cancellationWorkflowId). */
export const tripIdOfCancellation = (workflowId: string): string => workflowId.replace(/^cancel-/, '');
