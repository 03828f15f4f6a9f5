/**
 * The shared half of every compensation endpoint: undo "whatever the forward key created".
 * If the forward request never arrived, a tombstone makes sure it is refused when it does.
 */
import type { Knex } from 'knex';
import type { CancelOutcome } from '../http/common-schemas';
import type { ServiceContext } from '../http/idempotent-route';
import { HttpProblem } from '../http/problem';

export async function compensateByKey(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  forwardKey: string,
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
    throw new HttpProblem({
      status: 503,
      code: 'FORWARD_IN_FLIGHT',
      title: 'The request to undo is still in progress',
      headers: { 'retry-after': '1' },
    });
  }
  return { status: 200, body: await undo() };
}
