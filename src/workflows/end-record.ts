/**
 * The saga's end record (trip row + outbox event), written by an activity at each terminal
 * status. It runs even in a cancelled run and never fails the saga: a failure for good is logged.
 */
import { CancellationScope, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TripRequest, TripView } from '../shared/trip';
import { compensationStep } from './activity-options';

/** The principal the run was started for (tripStartOptions puts it in the memo), if any. */
function principalOfRun(): string | undefined {
  const principal = workflowInfo().memo?.principal;
  return typeof principal === 'string' ? principal : undefined;
}

export function recordOutcome(view: TripView, request?: TripRequest): Promise<void> {
  const activities = proxyActivities<Activities>({
    ...compensationStep,
    summary: `Record trip ${view.status} (trip row + outbox event)`,
  });
  return CancellationScope.nonCancellable(() =>
    activities.recordTripOutcome({ ...view }, request, principalOfRun()),
  ).then(
    () => undefined,
    (err: unknown) => log.warn('trip end record failed for good', { status: view.status, error: String(err) }),
  );
}
