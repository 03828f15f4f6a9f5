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
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../shared/failures';
import { stepSummaries } from '../shared/saga-steps';
import { initialView, STEPS, type TripRequest, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus } from '../shared/trip-status';
import { Compensations, trackedUndo } from './compensations';
import { recordOutcome } from './end-record';
import { describeFailure } from './failure-info';
import { runsLocalSteps, stepCalls } from './step-calls';
import { createProgressPublisher } from './trip-visibility';

export const getTrip = defineQuery<TripView>('getTrip');
/** Asks a running saga to stop and undo what it did; resolves with the final view. */
export const cancelTrip = defineUpdate<TripView>('cancel');
/** The fire-and-forget form of `cancel`, for callers that cannot wait. */
export const cancelTripSignal = defineSignal('cancel');

export async function bookTrip(request: TripRequest): Promise<TripView> {
  // First, before any command: whether this (recorded) run called its steps as local activities.
  const calls = stepCalls(runsLocalSteps(patched));
  const { workflowId } = workflowInfo();
  const view = initialView(workflowId);
  const saga = new Compensations();
  const booking = new CancellationScope();
  let cancelRequested = false;
  // Search attributes and current details follow every transition (what the Web UI shows).
  const publish = createProgressPublisher(view, { coalesce: calls.local });
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
          trackedUndo(view, step, publish, () => calls.undo(step, stepSummaries(request)[step].undo)),
        );
        state.status = 'RUNNING';
        publish();
        try {
          await calls.forward(step, request);
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
    await recordOutcome(calls, view, request);
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
      await recordOutcome(calls, view, request);
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
    await recordOutcome(calls, view, request);
    // Temporal's own cancellation ends the run as Cancelled, once everything is undone.
    if (isCancellation(err) && !cancelRequested) throw err;
    return view;
  }
}
