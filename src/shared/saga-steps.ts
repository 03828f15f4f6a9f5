/**
 * The saga's steps, in order: the one table read by the activities (names and service routes),
 * both workflows (forward call and compensation of each step), the step metrics and the summaries
 * the Web UI shows. Pure and deterministic: the workflow bundle imports it.
 */
import type { TripRequest } from './trip';
import { formatMoney, maskToken } from './trip-summary';

/** One step of the saga: its forward activity and its compensation, and what each shows in the UI. */
export interface SagaStepDef<Name extends string = string> {
  step: Name;
  /** The activity that books this step (keyed `<workflowId>:<step>`). */
  forward: string;
  /** The activity that undoes whatever the forward key created (cancel by key). */
  undo: string;
  /** The booking service's routes: POST `forward` books, POST `undo` cancels by key. */
  route: { forward: string; undo: string };
  /** What the Web UI shows for the forward call and the compensation of this trip's step. */
  summary: (r: TripRequest) => { forward: string; undo: string };
  /** The compensation's summary when only the trip id is known (cancelling a confirmed trip). */
  undoSummaryOf: (tripId: string) => string;
}

const RESERVATIONS = { forward: '/reservations', undo: '/reservations/cancel' } as const;

/**
 * A step booked through its service's /reservations routes. `reserved` says what a trip reserves
 * and when (`flight UA100`, `on 2027-03-01`); the summaries read `Reserve flight UA100 on
 * 2027-03-01` and `Cancel flight UA100 (compensation)`.
 */
function reservationStep<const Name extends string, const Forward extends string, const Undo extends string>(
  step: Name,
  activities: { forward: Forward; undo: Undo },
  reserved: (r: TripRequest) => { what: string; when: string },
) {
  return {
    step,
    ...activities,
    route: RESERVATIONS,
    summary: (r: TripRequest) => {
      const { what, when } = reserved(r);
      return { forward: `Reserve ${what} ${when}`, undo: `Cancel ${what} (compensation)` };
    },
    undoSummaryOf: (id: string) => `Cancel ${step} of ${id} (compensation)`,
  };
}

export const SAGA_STEPS = [
  reservationStep('flight', { forward: 'reserveFlight', undo: 'cancelFlight' }, (r) => ({
    what: `flight ${r.flight.flightNumber}`,
    when: `on ${r.flight.date}`,
  })),
  reservationStep('hotel', { forward: 'reserveHotel', undo: 'cancelHotel' }, (r) => ({
    what: `hotel ${r.hotel.hotelId}`,
    when: `${r.hotel.checkIn}→${r.hotel.checkOut}`,
  })),
  reservationStep('car', { forward: 'reserveCar', undo: 'cancelCar' }, (r) => ({
    what: `car at ${r.car.location}`,
    when: `${r.car.pickUp}→${r.car.dropOff}`,
  })),
  {
    step: 'payment',
    forward: 'capturePayment',
    undo: 'refundPayment',
    route: { forward: '/charges', undo: '/charges/refund' },
    summary: (r: TripRequest) => {
      const money = formatMoney(r.payment.amountCents, r.payment.currency);
      return {
        forward: `Capture payment ${money} (card ${maskToken(r.payment.token)})`,
        undo: `Refund payment ${money} (compensation)`,
      };
    },
    undoSummaryOf: (id: string) => `Refund payment of ${id} (compensation)`,
  },
] as const satisfies readonly SagaStepDef[];

type StepDefs = (typeof SAGA_STEPS)[number];
export type StepName = StepDefs['step'];
export type ForwardActivityName = StepDefs['forward'];
export type UndoActivityName = StepDefs['undo'];

/** The step names in saga order. */
export const STEPS: readonly StepName[] = SAGA_STEPS.map((d) => d.step);

/** The table row of one step. */
export function stepDef<S extends StepName>(step: S): Extract<StepDefs, { step: S }> {
  return SAGA_STEPS.find((d) => d.step === step) as Extract<StepDefs, { step: S }>;
}

/** A saga step's role, by activity type; bookkeeping activities are `other`. */
export function stepKind(activityType: string): 'forward' | 'compensation' | 'other' {
  if (SAGA_STEPS.some((d) => d.forward === activityType)) return 'forward';
  if (SAGA_STEPS.some((d) => d.undo === activityType)) return 'compensation';
  return 'other';
}

/** The summary of each step's forward call and of its compensation. */
export function stepSummaries(r: TripRequest): Record<StepName, { forward: string; undo: string }> {
  return Object.fromEntries(SAGA_STEPS.map((d) => [d.step, d.summary(r)])) as Record<
    StepName,
    { forward: string; undo: string }
  >;
}
