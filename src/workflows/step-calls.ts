/**
 * How the workflows call the saga's activities, by the version of the run (patches.ts).
 *
 * New runs (`LOCAL_STEPS_UNDO_ALL_PATCH`) call every activity of `bookTrip` as a local activity:
 * the forward steps, the compensations and the end record. A happy trip is one workflow task, and
 * so is a declined one. A local activity is recorded in the history only when its workflow task
 * completes, so a worker that dies before that leaves bookings the next worker cannot see: it
 * re-runs the workflow from an older history, and a user cancel arriving in between takes it down
 * the compensation path before it reaches those steps. Such a run therefore undoes every step
 * whenever it may follow a lost task (`undoesAllInDoubt`, used by book-trip.ts): undoing a step
 * that was never booked is safe, because the service keeps a tombstone for the key and refuses a
 * late forward request with it. Only a deterministic business refusal at step k (sold out,
 * declined, invalid) proves no attempt went past k. A compensation or end record re-run after a
 * lost task is a replay at the service (its own idempotency key), and a retry whose backoff
 * passes the local retry threshold waits on a timer, so an outage of hours costs a timer per
 * attempt, not a workflow task held open.
 *
 * Runs recorded before keep replaying as they ran: under `LOCAL_STEPS_PATCH` alone, local forward
 * steps without that rule (`npm run chaos` found the trip it lost: CANCELLED with hotel, car and
 * payment still held); under `REGULAR_STEPS_PATCH`, or with no patch, regular activities.
 * `cancelConfirmedTrip` calls regular activities.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { stepDef, type StepName } from '../shared/saga-steps';
import type { TripRequest } from '../shared/trip';
import { compensationLocalStep, compensationStep, forwardLocalStep, forwardStep } from './activity-options';
import { LOCAL_STEPS_PATCH, LOCAL_STEPS_UNDO_ALL_PATCH, REGULAR_STEPS_PATCH } from './patches';

/** How a run calls its steps, from the patches its history carries (new runs: the newest). */
export interface StepMode {
  /** The forward steps (and a confirmed trip's end record) are local activities. */
  local: boolean;
  /** A compensation that may follow a lost workflow task undoes every step. */
  undoesAllInDoubt: boolean;
  /** Compensations and every end record are local activities too: a declined trip is one task. */
  localUndo: boolean;
}

/** The run's step mode. Call first, before any command: `patched` records the newest marker. */
export function stepMode(patched: (id: string) => boolean): StepMode {
  if (patched(LOCAL_STEPS_UNDO_ALL_PATCH)) return { local: true, undoesAllInDoubt: true, localUndo: true };
  const local = !patched(REGULAR_STEPS_PATCH) && patched(LOCAL_STEPS_PATCH);
  return { local, undoesAllInDoubt: false, localUndo: false };
}

export interface StepCalls extends StepMode {
  /** Runs a step's forward activity with its part of the request. */
  forward(step: StepName, request: TripRequest): Promise<unknown>;
  /** Runs a step's compensation; `tripId` names another run's trip (a confirmed trip's cancel). */
  undo(step: StepName, summary: string, tripId?: string): Promise<unknown>;
  /** The end record's activities: local in a run with local undo, and on a confirmed trip of a local run. */
  recorder(summary: string, confirmed: boolean): Pick<Activities, 'recordTripOutcome'>;
}

/** Each call gets its own proxy so that it carries its own summary in the Web UI. */
export function stepCalls(mode: StepMode): StepCalls {
  const { local, localUndo } = mode;
  return {
    ...mode,
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
      const activities = localUndo
        ? proxyLocalActivities<Activities>({ ...compensationLocalStep, summary })
        : proxyActivities<Activities>({ ...compensationStep, summary });
      const call = activities[stepDef(step).undo];
      // Same arguments as before the patch: none for the run's own trip.
      return tripId === undefined ? call() : call(tripId);
    },
    recorder(summary, confirmed) {
      return localUndo || (local && confirmed)
        ? proxyLocalActivities<Activities>({ ...compensationLocalStep, summary })
        : proxyActivities<Activities>({ ...compensationStep, summary });
    },
  };
}
