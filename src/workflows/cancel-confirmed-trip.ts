/**
 * `cancelConfirmedTrip`: undoes a trip whose `bookTrip` run already ended CONFIRMED. That run is
 * closed, so a second workflow runs the same compensations, in reverse saga order, naming the trip
 * explicitly (its keys are `<tripId>:<step>`, not this workflow's id).
 */
import { ApplicationFailure, defineQuery, setHandler } from '@temporalio/workflow';
import { FailureType } from '../shared/failures';
import { stepDef } from '../shared/saga-steps';
import { STEPS, type TripView } from '../shared/trip';
import { Compensations, trackedUndo } from './compensations';
import { recordOutcome } from './end-record';
import { describeFailure } from './failure-info';
import { stepCalls } from './step-calls';
import { createProgressPublisher } from './trip-visibility';

/** The view of the trip while it is being cancelled (same shape as bookTrip's `getTrip`). */
export const getCancellation = defineQuery<TripView>('getTrip');

export async function cancelConfirmedTrip(confirmed: TripView): Promise<TripView> {
  // Compensations are regular activities (see step-calls.ts).
  const calls = stepCalls({ local: false, undoesAllInDoubt: false, localUndo: false });
  const view: TripView = {
    ...confirmed,
    status: 'CANCELLING',
    steps: { ...confirmed.steps },
    reason: { type: 'Cancelled', message: 'cancelled by the user after confirmation' },
  };
  setHandler(getCancellation, () => view);
  // TripStatus/TripStep and the live step list, as bookTrip shows them in the Web UI.
  const publish = createProgressPublisher(view);
  publish();
  // The same compensation stack as bookTrip: reverse saga order, out of cancellation's reach.
  const saga = new Compensations();
  for (const step of STEPS)
    saga.add(
      step,
      trackedUndo(view, step, publish, () =>
        calls.undo(step, stepDef(step).undoSummaryOf(confirmed.tripId), confirmed.tripId),
      ),
    );
  const failures = (await saga.runAll()).map((f) => `${f.name} (${describeFailure(f.error).message})`);
  if (failures.length > 0) {
    view.status = 'NEEDS_ATTENTION';
    publish();
    await recordOutcome(calls, view);
    throw ApplicationFailure.create({
      type: FailureType.NeedsAttention,
      nonRetryable: true,
      message: `compensation failed for good: ${failures.join('; ')}`,
      details: [view],
    });
  }
  view.status = 'CANCELLED';
  publish();
  await recordOutcome(calls, view);
  return view;
}
