/**
 * `bookTrip`: the orchestrated saga. Reserve flight → hotel → car → capture payment; on a
 * business failure, a user cancel or Temporal cancellation, undo what was done in reverse.
 */
import {
  ActivityFailure,
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
import { BUSINESS_REFUSALS, FailureType } from '../shared/failures';
import { stepSummaries } from '../shared/saga-steps';
import { initialView, STEPS, type StepName, type TripRequest, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus } from '../shared/trip-status';
import { Compensations, trackedUndo } from './compensations';
import { recordOutcome } from './end-record';
import { describeFailure } from './failure-info';
import { stepCalls, stepMode } from './step-calls';
import { createProgressPublisher } from './trip-visibility';

export const getTrip = defineQuery<TripView>('getTrip');
/** Asks a running saga to stop and undo what it did; resolves with the final view. */
export const cancelTrip = defineUpdate<TripView>('cancel');
/** The fire-and-forget form of `cancel`, for callers that cannot wait. */
export const cancelTripSignal = defineSignal('cancel');

export async function bookTrip(request: TripRequest): Promise<TripView> {
  // First, before any command: how this (recorded) run calls its steps.
  const calls = stepCalls(stepMode(patched));
  const { workflowId } = workflowInfo();
  const view = initialView(workflowId);
  const saga = new Compensations();
  const registerUndo = (step: StepName) => {
    saga.add(
      step,
      trackedUndo(view, step, publish, () => calls.undo(step, stepSummaries(request)[step].undo)),
    );
  };
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
        registerUndo(step);
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
    // A lost workflow task may have booked steps this run never started (step-calls.ts): unless
    // a business refusal proves how far every attempt got, undo them too (last first).
    if (calls.undoesAllInDoubt && (cancelled || !isBusinessRefusal(err)))
      for (const step of STEPS) if (!saga.has(step)) registerUndo(step);
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

/**
 * A step's own deterministic refusal (sold out, declined, invalid): every attempt of the run got
 * the same answer for the step's key, so none went past it. Anything else (a cancel, retries
 * given up, a tombstone left by another run) leaves in doubt how far a lost attempt got.
 */
function isBusinessRefusal(err: unknown): boolean {
  // A regular activity's failure wraps the service's answer; a local one may be that answer.
  const refusal = err instanceof ActivityFailure ? err.cause : err;
  return refusal instanceof ApplicationFailure && BUSINESS_REFUSALS.includes(refusal.type ?? '');
}
