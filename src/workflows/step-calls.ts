/**
 * How the workflows call the saga's activities. Since the `forward-steps-as-local-activities`
 * patch, bookTrip runs its forward steps (and, on a confirmed trip, its end record) as local
 * activities: the worker runs them inside the workflow task, so a happy trip is one workflow task
 * instead of one per step. A local activity can run again when its workflow task is lost (worker
 * crash, a rejected completion); each step's idempotency key makes that as safe as the retry of a
 * regular activity. Compensations stay regular activities: they may retry for hours and must not
 * re-run with every lost workflow task. Runs recorded before the patch replay as they ran.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { stepDef, type StepName } from '../shared/saga-steps';
import type { TripRequest } from '../shared/trip';
import { compensationStep, forwardLocalStep, forwardStep, recordLocalStep } from './activity-options';

export const LOCAL_STEPS_PATCH = 'forward-steps-as-local-activities';

export interface StepCalls {
  /** True when this run calls its forward steps as local activities. */
  readonly local: boolean;
  /** Runs a step's forward activity with its part of the request. */
  forward(step: StepName, request: TripRequest): Promise<unknown>;
  /** Runs a step's compensation; `tripId` names another run's trip (a confirmed trip's cancel). */
  undo(step: StepName, summary: string, tripId?: string): Promise<unknown>;
  /** The end record's activities: local on a confirmed trip of a local run (the last step's task). */
  recorder(summary: string, confirmed: boolean): Pick<Activities, 'recordTripOutcome'>;
}

/** Each call gets its own proxy so that it carries its own summary in the Web UI. */
export function stepCalls(local: boolean): StepCalls {
  return {
    local,
    forward(step, request) {
      const def = stepDef(step);
      const options = { summary: def.summary(request).forward };
      const activities = local
        ? proxyLocalActivities<Activities>({ ...forwardLocalStep, ...options })
        : proxyActivities<Activities>({ ...forwardStep, ...options });
      const call = activities[def.forward] as (req: TripRequest[StepName]) => Promise<unknown>;
      return call(request[step]);
    },
    undo(step, summary, tripId) {
      const call = proxyActivities<Activities>({ ...compensationStep, summary })[stepDef(step).undo];
      // Same arguments as before the patch: none for the run's own trip.
      return tripId === undefined ? call() : call(tripId);
    },
    recorder(summary, confirmed) {
      return local && confirmed
        ? proxyLocalActivities<Activities>({ ...recordLocalStep, summary })
        : proxyActivities<Activities>({ ...compensationStep, summary });
    },
  };
}
