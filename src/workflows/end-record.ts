/**
 * The saga's end record (trip row + outbox event), written by an activity at each terminal
 * status. It runs even in a cancelled run and never fails the saga: a failure for good is logged.
 * On a confirmed trip of a run with local steps it is a local activity in the last step's task.
 */
import { CancellationScope, log, workflowInfo } from '@temporalio/workflow';
import type { TripRequest, TripView } from '../shared/trip';
import type { StepCalls } from './step-calls';

/** The principal the run was started for (tripStartOptions puts it in the memo), if any. */
function principalOfRun(): string | undefined {
  const principal = workflowInfo().memo?.principal;
  return typeof principal === 'string' ? principal : undefined;
}

export function recordOutcome(calls: StepCalls, view: TripView, request?: TripRequest): Promise<void> {
  const activities = calls.recorder(
    `Record trip ${view.status} (trip row + outbox event)`,
    view.status === 'CONFIRMED',
  );
  return CancellationScope.nonCancellable(() =>
    activities.recordTripOutcome({ ...view }, request, principalOfRun()),
  ).then(
    () => undefined,
    (err: unknown) => log.warn('trip end record failed for good', { status: view.status, error: String(err) }),
  );
}
