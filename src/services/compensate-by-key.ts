/**
 * The shared half of every compensation endpoint: undo "whatever the forward key created".
 * If the forward request never arrived, a tombstone makes sure it is refused when it does; if it
 * succeeded, its key answers 409 IDEMPOTENCY_KEY_UNDONE from then on instead of its stale 201.
 * `registerUndoRoute` is the whole endpoint, for the inventory and payment services alike.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { cancelRequestSchema, type CancelOutcome } from '../http/common-schemas';
import { handleIdempotent, type IdempotentHandler, type ServiceContext } from '../http/idempotent-route';
import { badRequest, forwardInFlight, HttpProblem, PROBLEM_CONTENT_TYPE } from '../http/problem';
import { describeIssues } from '../shared/trip-schema';
import { announceRow, type KeyedRow, type RowEvent, undoKeyedRow } from './keyed-rows';

/** What a forward key answers once what it created was cancelled or refunded. */
export function keyUndone(forwardKey: string, undoneBy?: string): HttpProblem {
  return new HttpProblem({
    status: 409,
    code: 'IDEMPOTENCY_KEY_UNDONE',
    title: 'What this request did has been undone',
    detail: `key ${forwardKey} was cancelled or refunded${undoneBy ? ` by ${undoneBy}` : ''}; use a new key (a new trip id) to book again`,
    extra: undoneBy ? { undoneBy } : {},
  });
}

export async function compensateByKey(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  forwardKey: string,
  /** The compensation's own key, named in the forward key's undone answer. */
  undoKey: string,
  undo: () => Promise<CancelOutcome>,
): Promise<{ status: number; body: CancelOutcome }> {
  const undoOrTombstone = async () => {
    // The business rows carry the key for good, so look there before calling it a tombstone.
    const undone = await undo();
    return {
      status: 200,
      body:
        undone.outcome === 'NOTHING_TO_CANCEL'
          ? ({ outcome: 'TOMBSTONED', idempotencyKey: forwardKey } as const)
          : undone,
    };
  };
  // No key record: either the forward request never arrived, or its key was purged after the
  // retention period while what it created lives on (a trip cancelled weeks later).
  if (await ctx.store.tombstone(ctx.scope, forwardKey, trx)) return undoOrTombstone();
  const forward = await ctx.store.find(ctx.scope, forwardKey, trx);
  // Tombstoned by an earlier compensation (under another key): nothing is in flight.
  if (forward?.tombstone) return undoOrTombstone();
  if (forward && forward.response_status === null) {
    // Not stored as the outcome (>= 500): the caller retries once the forward call settles.
    throw forwardInFlight();
  }
  const undone = await undo();
  if (forward && undone.outcome !== 'NOTHING_TO_CANCEL') {
    const problem = keyUndone(forwardKey, undoKey);
    const body = JSON.stringify(problem.toBody());
    await ctx.store.supersede(
      ctx.scope,
      forwardKey,
      { status: 409, headers: { 'content-type': PROBLEM_CONTENT_TYPE }, body },
      trx,
    );
  }
  return { status: 200, body: undone };
}

/** How one service undoes the keyed row of a forward request (a reservation, a charge). */
export interface UndoRoute<Status extends string, Row extends KeyedRow<Status>> {
  /** `POST` path of the compensation, e.g. `/reservations/cancel` (a bad body: "invalid cancel request"). */
  path: string;
  table: string;
  /** The row's status before and after; the outcome is the undone status, or ALREADY_<it>. */
  status: { active: Status; undone: Status & ('CANCELLED' | 'REFUNDED') };
  /** The row as the answer shows it, e.g. `{ reservation: … }`. */
  show: (row: Row) => { reservation: unknown } | { charge: unknown };
  /** The event announcing the undo, appended in its transaction. */
  event: RowEvent<Row>;
  /** What else the undo gives back, in the same transaction (the inventory a reservation held). */
  release?: (row: Row, trx: Knex.Transaction) => Promise<void>;
}

/** The compensation endpoint's handler: undo by the forward key, once, with a tombstone when nothing came yet. */
export function undoHandler<Status extends string, Row extends KeyedRow<Status>>(
  ctx: ServiceContext,
  route: UndoRoute<Status, Row>,
): IdempotentHandler<{ tripId: string; idempotencyKey: string }> {
  const requestName = route.path.split('/').pop();
  const { undone } = route.status;
  return {
    parse: (body) => {
      const parsed = cancelRequestSchema.safeParse(body);
      if (!parsed.success) throw badRequest(`invalid ${requestName} request`, describeIssues(parsed.error));
      return parsed.data;
    },
    execute: ({ idempotencyKey }, trx, key) =>
      compensateByKey(ctx, trx, idempotencyKey, key, async (): Promise<CancelOutcome> => {
        const undo = await undoKeyedRow<Status, Row>(trx, route.table, idempotencyKey, route.status);
        if (undo.kind === 'none') return { outcome: 'NOTHING_TO_CANCEL', idempotencyKey };
        if (undo.kind === 'undone') {
          await route.release?.(undo.row, trx);
          await announceRow(trx, undo.row, route.event);
        }
        const outcome = undo.kind === 'undone' ? undone : (`ALREADY_${undone}` as const);
        return { outcome, idempotencyKey, ...route.show(undo.row) };
      }),
  };
}

/** Registers a compensation endpoint (`undoHandler` at `route.path`). */
export function registerUndoRoute<Status extends string, Row extends KeyedRow<Status>>(
  app: FastifyInstance,
  ctx: ServiceContext,
  route: UndoRoute<Status, Row>,
): void {
  app.post(route.path, (request, reply) => handleIdempotent(ctx, request, reply, undoHandler(ctx, route)));
}
