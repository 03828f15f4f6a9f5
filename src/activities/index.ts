/**
 * The saga's activities: thin, idempotent clients of the booking services. Every forward call
 * is keyed `<workflowId>:<step>`; every compensation undoes whatever that key created.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BookingServiceName } from '../config';
import { FailureType } from '../shared/failures';
import { SAGA_STEPS, stepDef, type UndoActivityName } from '../shared/saga-steps';
import { stepKey, type StepName, type TripRequest, type TripView, undoKey } from '../shared/trip';
import { postIdempotent } from './service-client';

export interface ActivityDeps {
  /** Base URL of each booking service. */
  endpoints: Record<BookingServiceName, string>;
  requestTimeoutMs?: number;
  /**
   * Records a trip's terminal view and its outbox event in the API database (one transaction);
   * `principal` is the trip's owner, from the run's memo (absent for client-script trips).
   */
  tripRecorder?: (view: TripView, request?: TripRequest, principal?: string) => Promise<unknown>;
}

/** What a forward step returns: the id and status of what it created. */
export interface StepResult {
  id: string;
  status: string;
}

/** What a compensation returns (the service's own outcome word). */
export interface CompensationResult {
  outcome: string;
}

/** One forward activity per step (`reserveFlight(req.flight)`, …), named by the step table. */
export type ForwardActivities = {
  [D in (typeof SAGA_STEPS)[number] as D['forward']]: (req: TripRequest[D['step']]) => Promise<StepResult>;
};
/** One compensation per step (`cancelFlight(tripId?)`, …); the trip id defaults to the workflow's own. */
export type UndoActivities = Record<UndoActivityName, (tripId?: string) => Promise<CompensationResult>>;

export function createActivities(deps: ActivityDeps) {
  const timeoutMs = deps.requestTimeoutMs ?? 10_000;

  // Keyed by workflow id, not run id: a reset or continued run must not book twice.
  const current = () => {
    const ctx = Context.current();
    const workflowId = ctx.info.workflowExecution?.workflowId;
    if (!workflowId) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidRequest,
        message: 'saga activities run only inside a workflow',
        nonRetryable: true,
      });
    }
    return { workflowId, signal: ctx.cancellationSignal };
  };

  async function forward(step: StepName, details: object): Promise<StepResult> {
    const { workflowId, signal } = current();
    const created = await postIdempotent<StepResult>({
      service: step,
      url: deps.endpoints[step] + stepDef(step).route.forward,
      idempotencyKey: stepKey(workflowId, step),
      body: { tripId: workflowId, ...details },
      timeoutMs,
      signal,
    });
    return { id: created.id, status: created.status };
  }

  // The trip id is explicit so that a later workflow (cancelling a confirmed trip) can undo it.
  async function undo(step: StepName, tripId?: string): Promise<CompensationResult> {
    const { workflowId: own, signal } = current();
    const workflowId = tripId ?? own;
    const forwardKey = stepKey(workflowId, step);
    const result = await postIdempotent<CompensationResult>({
      service: step,
      url: deps.endpoints[step] + stepDef(step).route.undo,
      idempotencyKey: undoKey(workflowId, step),
      body: { tripId: workflowId, idempotencyKey: forwardKey },
      timeoutMs,
      signal,
    });
    return { outcome: result.outcome };
  }

  // Built from the step table; the mapped types above give each one its own argument type.
  const steps: Record<string, (arg: never) => Promise<unknown>> = {};
  for (const def of SAGA_STEPS) {
    steps[def.forward] = (req: object) => forward(def.step, req);
    steps[def.undo] = (tripId?: string) => undo(def.step, tripId);
  }
  return {
    ...(steps as unknown as ForwardActivities & UndoActivities),
    /** The saga's end record (TripConfirmed / TripCompensated / TripCancelled through the outbox). */
    recordTripOutcome: async (view: TripView, request?: TripRequest, principal?: string): Promise<void> => {
      await deps.tripRecorder?.(view, request, principal);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
