/**
 * One round of the relay on one source: claim → publish → mark. On PostgreSQL all three run in
 * one transaction, so the claim's row locks last until the mark commits; a crash anywhere before
 * that commit leaves every event of the batch unpublished, to be sent again (at-least-once).
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import type { OutboxRow } from '../outbox/event';
import { claimBatch } from './claim-batch';
import { markBatch, type BatchResult, type MarkPolicy, type PublishOutcome } from './mark-batch';

/**
 * Claims up to `limit` due events (per-aggregate chains, oldest heads first), hands them to
 * `publish`, then marks what the transport acknowledged. `afterPublish` runs between the two
 * (the crash test's hook).
 */
export async function processBatch(
  db: Knex,
  limit: number,
  policy: MarkPolicy,
  publish: (chains: OutboxRow[][]) => Promise<PublishOutcome[]>,
  afterPublish?: () => void,
): Promise<BatchResult> {
  const run = async (q: Knex | Knex.Transaction): Promise<BatchResult> => {
    const chains = await claimBatch(q, limit);
    if (chains.length === 0) return { claimed: 0, published: 0, failed: 0, parked: 0 };
    const outcomes = await publish(chains);
    afterPublish?.();
    return markBatch(q, chains.flat(), outcomes, policy);
  };
  return dialectOf(db) === 'pg' ? db.transaction(run) : run(db);
}
