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
import { initialView, STEPS, type StepName, type TripRequest, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus } from '../shared/trip-status';
import { stepSummaries } from '../shared/trip-summary';
import { compensationStep, forwardStep } from './activity-options';
import { Compensations, trackedUndo } from './compensations';
import { recordOutcome } from './end-record';
import { describeFailure } from './failure-info';
import { createProgressPublisher } from './trip-visibility';

export const getTrip = defineQuery<TripView>('getTrip');
/** Asks a running saga to stop and undo what it did; resolves with the final view. */
export const cancelTrip = defineUpdate<TripView>('cancel');
/** The fire-and-forget form of `cancel`, for callers that cannot wait. */
export const cancelTripSignal = defineSignal('cancel');

// One proxy per call so that each activity carries its own summary in the Web UI.
const forward = (r: TripRequest, step: StepName) =>
  proxyActivities<Activities>({ ...forwardStep, summary: stepSummaries(r)[step].forward });
const compensation = (r: TripRequest, step: StepName) =>
  proxyActivities<Activities>({ ...compensationStep, summary: stepSummaries(r)[step].undo });

/** The forward call and its compensation for each step, in saga order. */
export const SAGA: Record<
  StepName,
  { run: (req: TripRequest) => Promise<unknown>; undo: (req: TripRequest) => Promise<unknown> }
> = {
  flight: {
    run: (r) => forward(r, 'flight').reserveFlight(r.flight),
    undo: (r) => compensation(r, 'flight').cancelFlight(),
  },
  hotel: { run: (r) => forward(r, 'hotel').reserveHotel(r.hotel), undo: (r) => compensation(r, 'hotel').cancelHotel() },
  car: { run: (r) => forward(r, 'car').reserveCar(r.car), undo: (r) => compensation(r, 'car').cancelCar() },
  payment: {
    run: (r) => forward(r, 'payment').capturePayment(r.payment),
    undo: (r) => compensation(r, 'payment').refundPayment(),
  },
};

export async function bookTrip(request: TripRequest): Promise<TripView> {
  const { workflowId } = workflowInfo();
  const view = initialView(workflowId);
  const saga = new Compensations();
  const booking = new CancellationScope();
  let cancelRequested = false;
  // Search attributes and current details follow every transition (what the Web UI shows).
  const publish = createProgressPublisher(view);
  publish();

  setHandler(getTrip, () => view);
  const requestCancel = () => {
    if (isBookingStatus(view.status)) {
      cancelRequested = true;
      booking.cancel();
    }
  };
  setHandler(cancelTripSignal, requestCancel);
  setHandler(
    cancelTrip,
    async () => {
      requestCancel();
      await condition(() => isTerminalStatus(view.status));
      return view;
    },
    {
      validator: () => {
        if (!isBookingStatus(view.status)) {
          throw new Error(`trip ${workflowId} is ${view.status} and can no longer be cancelled by this run`);
        }
      },
    },
  );

  try {
    await booking.run(async () => {
      view.status = 'BOOKING';
      publish();
      for (const step of STEPS) {
        const state = view.steps[step];
        // Registered before the call: it may time out after the service committed.
        saga.add(
          step,
          trackedUndo(view, step, publish, () => SAGA[step].undo(request)),
        );
        state.status = 'RUNNING';
        publish();
        try {
          await SAGA[step].run(request);
          state.status = 'DONE';
          publish();
        } catch (err) {
          state.status = 'FAILED';
          state.error = describeFailure(err);
          if (!isCancellation(err)) view.reason = { step, ...state.error };
          publish();
          throw err;
        }
      }
    });
    view.status = 'CONFIRMED';
    publish();
    await recordOutcome(view, request);
    return view;
  } catch (err) {
    const cancelled = cancelRequested || isCancellation(err);
    view.status = cancelled ? 'CANCELLING' : 'COMPENSATING';
    if (cancelled)
      view.reason = { type: 'Cancelled', message: cancelRequested ? 'cancelled by the user' : 'workflow cancelled' };
    publish();
    const failures = await saga.runAll();
    if (failures.length > 0) {
      view.status = 'NEEDS_ATTENTION';
      publish();
      await recordOutcome(view, request);
      throw ApplicationFailure.create({
        type: FailureType.NeedsAttention,
        nonRetryable: true,
        // The UI shows this message on the run's failure banner: say plainly that a human is needed.
        message: `NEEDS ATTENTION: compensation failed for good, undo by hand: ${failures.map((f) => `${f.name} (${describeFailure(f.error).message})`).join('; ')}`,
        details: [view],
      });
    }
    view.status = cancelled ? 'CANCELLED' : 'COMPENSATED';
    publish();
    await recordOutcome(view, request);
    // Temporal's own cancellation ends the run as Cancelled, once everything is undone.
    if (isCancellation(err) && !cancelRequested) throw err;
    return view;
  }
}
