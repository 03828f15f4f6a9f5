/**
 * What a booking service does for the choreography: the very operations its HTTP routes run
 * (`reserveHandler`, `chargeHandler`, `cancelReservationHandler`), claimed under the same keys
 * (`<tripId>:<step>` forward, `<tripId>:<step>:undo` for the compensation) in the caller's
 * transaction. The outcome is the event the step emits.
 */
import type { Knex } from 'knex';
import { fingerprintOf } from '../idempotency/fingerprint';
import { executeOnce, type IdempotentHandler, type ServiceContext } from '../http/idempotent-route';
import { HttpProblem } from '../http/problem';
import { CATALOGS } from '../services/booking/catalog';
import { cancelReservationHandler, reserveHandler } from '../services/booking/inventory-app';
import { chargeHandler, refundHandler } from '../services/payment/payment-app';
import { ERROR_CODE_TO_FAILURE, FailureType } from '../shared/failures';
import { stepKey, type StepName, type TripRequest } from '../shared/trip';
import { STEP_EVENTS, type ChoreographyEvent } from './events';

export interface StepOutcome {
  event: ChoreographyEvent;
  error?: { type: string; message: string };
}

interface Operation {
  path: string;
  handler: IdempotentHandler<unknown>;
  body: Record<string, unknown>;
  key: string;
}

function forwardOperation(step: StepName, tripId: string, request: TripRequest): Operation {
  const key = stepKey(tripId, step);
  if (step === 'payment') {
    return {
      path: '/charges',
      handler: chargeHandler() as IdempotentHandler<unknown>,
      body: { tripId, ...request.payment },
      key,
    };
  }
  const catalog = CATALOGS[step] as Parameters<typeof reserveHandler>[0];
  return {
    path: '/reservations',
    handler: reserveHandler(catalog) as IdempotentHandler<unknown>,
    body: { tripId, ...request[step] },
    key,
  };
}

function undoOperation(ctx: ServiceContext, step: StepName, tripId: string): Operation {
  const forwardKey = stepKey(tripId, step);
  const body = { tripId, idempotencyKey: forwardKey };
  const handler = step === 'payment' ? refundHandler(ctx) : cancelReservationHandler(ctx, CATALOGS[step]);
  return {
    path: step === 'payment' ? '/charges/refund' : '/reservations/cancel',
    handler: handler as IdempotentHandler<unknown>,
    body,
    key: `${forwardKey}:undo`,
  };
}

/** Runs one operation once per key inside `trx`; a business refusal comes back as `problem`. */
async function runOnce(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  op: Operation,
): Promise<{ ok: true } | { ok: false; status: number; code?: string; detail?: string }> {
  try {
    const input = await op.handler.parse(op.body, trx);
    const fingerprint = fingerprintOf('POST', op.path, op.body);
    const { response } = await executeOnce(
      ctx,
      trx,
      { scope: ctx.scope, key: op.key, method: 'POST', path: op.path, fingerprint },
      (inner) => op.handler.execute(input, inner, op.key),
    );
    if (response.status < 300) return { ok: true };
    const problem = JSON.parse(response.body) as { code?: string; detail?: string; title?: string };
    return { ok: false, status: response.status, code: problem.code, detail: problem.detail ?? problem.title };
  } catch (err) {
    // Refused before anything was stored (invalid, unknown resource, tombstoned): final too.
    if (err instanceof HttpProblem && err.status < 500) {
      return { ok: false, status: err.status, code: err.code, detail: err.detail ?? err.title };
    }
    throw err;
  }
}

/** The step's forward call: `…Reserved`/`PaymentCaptured`, or `…Failed` with the reason. */
export async function runForward(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  step: StepName,
  tripId: string,
  request: TripRequest,
): Promise<StepOutcome> {
  const result = await runOnce(ctx, trx, forwardOperation(step, tripId, request));
  if (result.ok) return { event: STEP_EVENTS[step].done };
  const type = (result.code && ERROR_CODE_TO_FAILURE[result.code]) || FailureType.InvalidRequest;
  const message = `${step} refused ${result.status} ${result.code ?? ''}: ${result.detail ?? ''}`.trim();
  return { event: STEP_EVENTS[step].failed, error: { type, message } };
}

/** The step's compensation: undo whatever its forward key created, then `…Released`. */
export async function runUndo(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  step: StepName,
  tripId: string,
): Promise<StepOutcome> {
  const undone = STEP_EVENTS[step].undone;
  if (!undone) throw new Error(`${step} has no compensation event`);
  const result = await runOnce(ctx, trx, undoOperation(ctx, step, tripId));
  // A refused undo cannot be retried into success: a human must look (the projection shows it).
  if (!result.ok) throw new Error(`${step}: compensation refused ${result.status} ${result.code}: ${result.detail}`);
  return { event: undone };
}
