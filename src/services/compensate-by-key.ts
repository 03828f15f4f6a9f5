/**
 * The shared half of every compensation endpoint: undo "whatever the forward key created".
 * If the forward request never arrived, a tombstone makes sure it is refused when it does; if it
 * succeeded, its key answers 409 IDEMPOTENCY_KEY_UNDONE from then on instead of its stale 201.
 */
import type { Knex } from 'knex';
import type { CancelOutcome } from '../http/common-schemas';
import type { ServiceContext } from '../http/idempotent-route';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from '../http/problem';

/** What a forward key answers once what it created was cancelled or refunded. */
export function keyUndone(forwardKey: string, undoneBy?: string): HttpProblem {
  return new HttpProblem(
    409,
    'IDEMPOTENCY_KEY_UNDONE',
    'What this request did has been undone',
    `key ${forwardKey} was cancelled or refunded${undoneBy ? ` by ${undoneBy}` : ''}; use a new key (a new trip id) to book again`,
    undoneBy ? { undoneBy } : {},
  );
}

export async function compensateByKey(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  forwardKey: string,
  /** The compensation's own key, named in the forward key's undone answer. */
  undoKey: string,
  undo: () => Promise<CancelOutcome>,
): Promise<{ status: number; body: CancelOutcome }> {
  if (await ctx.store.tombstone(ctx.scope, forwardKey, trx)) {
    // No key record: either the forward request never arrived, or its key was purged after the
    // retention period while what it created lives on (a trip cancelled weeks later). The
    // business rows carry the key for good, so look there before calling it a tombstone.
    const undone = await undo();
    return {
      status: 200,
      body: undone.outcome === 'NOTHING_TO_CANCEL' ? { outcome: 'TOMBSTONED', idempotencyKey: forwardKey } : undone,
    };
  }
  const forward = await ctx.store.find(ctx.scope, forwardKey, trx);
  if (forward && forward.response_status === null) {
    // Not stored as the outcome (>= 500): the caller retries once the forward call settles.
    throw new HttpProblem(
      503,
      'FORWARD_IN_FLIGHT',
      'The request to undo is still in progress',
      undefined,
      {},
      {
        'retry-after': '1',
      },
    );
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
