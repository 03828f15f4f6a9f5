/**
 * The shared half of every compensation endpoint: undo "whatever the forward key created".
 * If the forward request never arrived, a tombstone makes sure it is refused when it does.
 */
import type { Knex } from 'knex';
import type { CancelOutcome } from './common-schemas';
import type { ServiceContext } from './idempotent-route';
import { HttpProblem } from './problem';

export async function compensateByKey(
  ctx: ServiceContext,
  trx: Knex.Transaction,
  forwardKey: string,
  undo: () => Promise<CancelOutcome>,
): Promise<{ status: number; body: CancelOutcome }> {
  if (await ctx.store.tombstone(ctx.scope, forwardKey, trx)) {
    return { status: 200, body: { outcome: 'TOMBSTONED', idempotencyKey: forwardKey } };
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
  return { status: 200, body: await undo() };
}
