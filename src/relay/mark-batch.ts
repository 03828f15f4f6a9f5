/**
 * Marking a published batch: what the transport acknowledged becomes published in one statement;
 * a transport outage backs off without counting toward parking; a refusal of the event itself
 * counts, and parks the event after `maxAttempts`.
 */
import type { Knex } from 'knex';
import type { OutboxRow } from '../outbox/event';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

/**
 * What the transport said about one event. A failure with `transientFailures` (how many publishes
 * in a row failed because the transport was unreachable, this one included) is retried with
 * backoff and never counts toward parking; one without it is the event's own and does.
 */
export type PublishOutcome =
  { seq: number; ok: true } | { seq: number; ok: false; error: string; transientFailures?: number };

export interface MarkPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface BatchResult {
  claimed: number;
  published: number;
  failed: number;
  parked: number;
}

function backoffMs(policy: MarkPolicy, attempts: number): number {
  const exp = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/**
 * Records the outcomes of a claimed batch through `q` (the claim's transaction on PostgreSQL, whose
 * `preferIndexScans` keeps these updates on the primary key).
 */
export async function markBatch(
  q: Knex | Knex.Transaction,
  rows: OutboxRow[],
  outcomes: PublishOutcome[],
  policy: MarkPolicy,
): Promise<BatchResult> {
  const now = Date.now();
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const ok = outcomes.filter((o) => o.ok).map((o) => o.seq);
  const failed = outcomes.filter((o): o is Extract<PublishOutcome, { ok: false }> => !o.ok);
  const result: BatchResult = { claimed: rows.length, published: ok.length, failed: failed.length, parked: 0 };
  if (ok.length > 0) {
    await q(OUTBOX_TABLE)
      .whereIn('seq', ok)
      .update({ published_at: now, last_error: null, attempts: q.raw('attempts + 1') });
  }
  // The transport's outage, not these events' fault: wait and retry, attempts untouched.
  const transient = failed.filter((o) => o.transientFailures !== undefined);
  if (transient.length > 0) {
    const streak = Math.max(...transient.map((o) => o.transientFailures ?? 0));
    await q(OUTBOX_TABLE)
      .whereIn(
        'seq',
        transient.map((o) => o.seq),
      )
      .update({ last_error: transient[0]?.error.slice(0, 2000), next_attempt_at: now + backoffMs(policy, streak) });
  }
  for (const o of failed) {
    if (o.transientFailures !== undefined) continue;
    const attempts = (bySeq.get(o.seq)?.attempts ?? 0) + 1;
    const park = attempts >= policy.maxAttempts;
    if (park) result.parked += 1;
    await q(OUTBOX_TABLE)
      .where({ seq: o.seq })
      .update({
        attempts,
        last_error: o.error.slice(0, 2000),
        next_attempt_at: now + backoffMs(policy, attempts),
        parked_at: park ? now : null,
      });
  }
  return result;
}
