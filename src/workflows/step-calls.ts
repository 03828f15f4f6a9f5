/**
 * How the workflows call the saga's activities: regular activities, whose scheduling is in the
 * history before the service is called.
 *
 * Runs recorded under the `forward-steps-as-local-activities` patch ran the forward steps (and a
 * confirmed trip's end record) as local activities, one workflow task per happy trip. That is not
 * safe: when a worker dies after its local activities booked (and announced TripConfirmed) but
 * before the workflow task completed, the next worker re-runs the workflow from a history that
 * holds none of it; a user cancel arriving in between then takes another path, and what the lost
 * task booked is never compensated (`npm run chaos` found such a trip: CANCELLED with hotel, car
 * and payment still held). New runs take `REGULAR_STEPS_PATCH`; the local path stays only so
 * those recorded runs replay as they ran.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { stepDef, type StepName } from '../shared/saga-steps';
import type { TripRequest } from '../shared/trip';
import { compensationStep, forwardLocalStep, forwardStep, recordLocalStep } from './activity-options';
import { LOCAL_STEPS_PATCH, REGULAR_STEPS_PATCH } from './patches';

/**
 * Whether this run calls its forward steps as local activities: only a run recorded under
 * LOCAL_STEPS_PATCH and before REGULAR_STEPS_PATCH. Call first, before any command.
 */
export function runsLocalSteps(patched: (id: string) => boolean): boolean {
  return !patched(REGULAR_STEPS_PATCH) && patched(LOCAL_STEPS_PATCH);
}

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
