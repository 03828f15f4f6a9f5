/**
 * `bookTrip`: the orchestrated saga. Reserve flight → hotel → car → capture payment; on a
 * business failure, a user cancel or Temporal cancellation, undo what was done in reverse.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../shared/failures';
import { STEPS, stepKey, TERMINAL_STATUSES, type StepName, type TripRequest, type TripView } from '../shared/trip';
import { compensationStep, forwardStep } from './activity-options';
import { Compensations } from './compensations';
import { describeFailure } from './failure-info';

export const getTrip = defineQuery<TripView>('getTrip');
/** Asks a running saga to stop and undo what it did; resolves with the final view. */
export const cancelTrip = defineUpdate<TripView>('cancel');
/** The fire-and-forget form of `cancel`, for callers that cannot wait. */
export const cancelTripSignal = defineSignal('cancel');

const outcome = proxyActivities<Activities>(compensationStep);
/** The end record (trip row + outbox event); it must never fail the saga, even a cancelled one. */
const recordOutcome = (view: TripView, request: TripRequest) =>
  CancellationScope.nonCancellable(() => outcome.recordTripOutcome({ ...view }, request)).catch(() => undefined);

const forward = proxyActivities<Activities>(forwardStep);
const compensation = proxyActivities<Activities>(compensationStep);

/** The forward call and its compensation for each step, in saga order. */
export const SAGA: Record<StepName, { run: (req: TripRequest) => Promise<unknown>; undo: () => Promise<unknown> }> = {
  flight: { run: (r) => forward.reserveFlight(r.flight), undo: () => compensation.cancelFlight() },
  hotel: { run: (r) => forward.reserveHotel(r.hotel), undo: () => compensation.cancelHotel() },
  car: { run: (r) => forward.reserveCar(r.car), undo: () => compensation.cancelCar() },
  payment: { run: (r) => forward.capturePayment(r.payment), undo: () => compensation.refundPayment() },
};

export function initialView(workflowId: string): TripView {
  const steps = {} as TripView['steps'];
  for (const step of STEPS) steps[step] = { status: 'PENDING', idempotencyKey: stepKey(workflowId, step) };
  return { tripId: workflowId, workflowId, status: 'PENDING', steps };
}

export async function bookTrip(request: TripRequest): Promise<TripView> {
  const { workflowId } = workflowInfo();
  const view = initialView(workflowId);
  const saga = new Compensations();
  const booking = new CancellationScope();
  let cancelRequested = false;

  setHandler(getTrip, () => view);
  const requestCancel = () => {
    if (view.status === 'PENDING' || view.status === 'BOOKING') {
      cancelRequested = true;
      booking.cancel();
    }
  };
  setHandler(cancelTripSignal, requestCancel);
  setHandler(
    cancelTrip,
    async () => {
      requestCancel();
      await condition(() => TERMINAL_STATUSES.includes(view.status));
      return view;
    },
    {
      validator: () => {
        if (view.status !== 'PENDING' && view.status !== 'BOOKING') {
          throw new Error(`trip ${workflowId} is ${view.status} and can no longer be cancelled by this run`);
        }
      },
    },
  );

  try {
    await booking.run(async () => {
      view.status = 'BOOKING';
      for (const step of STEPS) {
        const state = view.steps[step];
        // Registered before the call: it may time out after the service committed.
        saga.add(step, async () => {
          state.status = 'COMPENSATING';
          try {
            await SAGA[step].undo();
            state.status = 'COMPENSATED';
          } catch (err) {
            state.status = 'COMPENSATION_FAILED';
            state.error = describeFailure(err);
            throw err;
          }
        });
        state.status = 'RUNNING';
        try {
          await SAGA[step].run(request);
          state.status = 'DONE';
        } catch (err) {
          state.status = 'FAILED';
          state.error = describeFailure(err);
          if (!isCancellation(err)) view.reason = { step, ...state.error };
          throw err;
        }
      }
    });
    view.status = 'CONFIRMED';
    await recordOutcome(view, request);
    return view;
  } catch (err) {
    const cancelled = cancelRequested || isCancellation(err);
    view.status = cancelled ? 'CANCELLING' : 'COMPENSATING';
    if (cancelled) view.reason = { type: 'Cancelled', message: cancelRequested ? 'cancelled by the user' : 'workflow cancelled' };
    const failures = await saga.runAll();
    if (failures.length > 0) {
      view.status = 'NEEDS_ATTENTION';
      throw ApplicationFailure.create({
        type: FailureType.NeedsAttention,
        nonRetryable: true,
        message: `compensation failed for good: ${failures.map((f) => `${f.name} (${describeFailure(f.error).message})`).join('; ')}`,
        details: [view],
      });
    }
    view.status = cancelled ? 'CANCELLED' : 'COMPENSATED';
    await recordOutcome(view, request);
    // Temporal's own cancellation ends the run as Cancelled, once everything is undone.
    if (isCancellation(err) && !cancelRequested) throw err;
    return view;
  }
}
