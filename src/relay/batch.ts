/**
 * Claiming a batch of unpublished events. On PostgreSQL the rows are locked `FOR UPDATE SKIP
 * LOCKED` inside a transaction held open until they are marked, so several relays never publish
 * the same batch at once and a relay that dies mid-batch simply loses its locks (the rows stay
 * unpublished and are sent again). On SQLite (embedded, one relay) nothing is locked.
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import { aggregateKey, type OutboxRow } from '../outbox/event';
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

/** Beyond this many aggregates in backoff at once (a transport outage), the rest may share the window. */
const MAX_EXCLUDED = 1000;

const pending = (q: Knex.QueryBuilder) => q.whereNull('published_at').whereNull('parked_at');
/** Not published yet, parked or not: what holds back the later events of its aggregate. */
const unpublished = (q: Knex.QueryBuilder) => q.whereNull('published_at');

/**
 * Keeps, per aggregate, only the claimed rows that no unpublished earlier row precedes: an event
 * whose predecessor is held by another relay, waits in backoff or is parked must wait too.
 */
async function headsOnly(db: Knex, rows: OutboxRow[]): Promise<OutboxRow[]> {
  if (rows.length === 0) return rows;
  const aggregates = [
    ...new Map(
      rows.map((r) => [aggregateKey(r.aggregate_type, r.aggregate_id), [r.aggregate_type, r.aggregate_id]]),
    ).values(),
  ];
  const maxSeq = Math.max(...rows.map((r) => r.seq));
  const earlier = await unpublished(db(OUTBOX_TABLE).select('seq', 'aggregate_type', 'aggregate_id'))
    .whereIn(['aggregate_type', 'aggregate_id'], aggregates)
    .andWhere('seq', '<=', maxSeq)
    .orderBy('seq');
  const claimed = new Set(rows.map((r) => r.seq));
  const blocked = new Set<string>();
  const keep = new Set<number>();
  for (const r of earlier as Array<Pick<OutboxRow, 'seq' | 'aggregate_type' | 'aggregate_id'>>) {
    const agg = aggregateKey(r.aggregate_type, r.aggregate_id);
    if (blocked.has(agg)) continue;
    if (claimed.has(Number(r.seq))) keep.add(Number(r.seq));
    else blocked.add(agg);
  }
  return rows.filter((r) => keep.has(r.seq));
}

function backoffMs(policy: MarkPolicy, attempts: number): number {
  const exp = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

async function mark(db: Knex, rows: OutboxRow[], outcomes: PublishOutcome[], policy: MarkPolicy): Promise<BatchResult> {
  const now = Date.now();
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const ok = outcomes.filter((o) => o.ok).map((o) => o.seq);
  const result: BatchResult = { claimed: rows.length, published: ok.length, failed: 0, parked: 0 };
  for (let i = 0; i < ok.length; i += 500) {
    await db(OUTBOX_TABLE)
      .whereIn('seq', ok.slice(i, i + 500))
      .update({ published_at: now, last_error: null, attempts: db.raw('attempts + 1') });
  }
  for (const o of outcomes) {
    if (o.ok) continue;
    result.failed += 1;
    if (o.transientFailures !== undefined) {
      // The transport's outage, not this event's fault: wait and retry, attempts untouched.
      await db(OUTBOX_TABLE)
        .where({ seq: o.seq })
        .update({ last_error: o.error.slice(0, 2000), next_attempt_at: now + backoffMs(policy, o.transientFailures) });
      continue;
    }
    const attempts = (bySeq.get(o.seq)?.attempts ?? 0) + 1;
    const park = attempts >= policy.maxAttempts;
    if (park) result.parked += 1;
    await db(OUTBOX_TABLE)
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

/**
 * Claims up to `limit` due events (oldest first, per-aggregate heads only), hands them to
 * `publish`, then marks what the transport acknowledged. `afterPublish` runs between the two
 * (the crash test's hook).
 */
export async function processBatch(
  db: Knex,
  limit: number,
  policy: MarkPolicy,
  publish: (rows: OutboxRow[]) => Promise<PublishOutcome[]>,
  afterPublish?: () => void,
): Promise<BatchResult> {
  const select = async (q: Knex | Knex.Transaction, lock: boolean) => {
    const now = Date.now();
    // Rows stuck behind an earlier event waiting in backoff, or parked, would only fill the batch
    // window and starve every other aggregate: find those aggregates first (only events that
    // failed qualify, few and indexed), then leave them out.
    const waiting = (await unpublished(q(OUTBOX_TABLE).distinct('aggregate_type', 'aggregate_id'))
      .andWhere((w) => w.where('next_attempt_at', '>', now).orWhereNotNull('parked_at'))
      .limit(MAX_EXCLUDED)) as Array<{ aggregate_type: string; aggregate_id: string }>;
    const query = pending(q<OutboxRow>(OUTBOX_TABLE).select('*'))
      .andWhere('next_attempt_at', '<=', now)
      .orderBy('seq')
      .limit(limit);
    if (lock) query.forUpdate().skipLocked();
    if (waiting.length > 0) {
      query.whereNotIn(
        ['aggregate_type', 'aggregate_id'],
        waiting.map((w) => [w.aggregate_type, w.aggregate_id]),
      );
    }
    return query;
  };
  const run = async (q: Knex | Knex.Transaction, rows: OutboxRow[]) => {
    const heads = await headsOnly(
      q,
      rows.map((r) => ({ ...r, seq: Number(r.seq), attempts: Number(r.attempts) })),
    );
    if (heads.length === 0) return { claimed: 0, published: 0, failed: 0, parked: 0 };
    const outcomes = await publish(heads);
    afterPublish?.();
    return mark(q, heads, outcomes, policy);
  };
  if (dialectOf(db) === 'pg') {
    return db.transaction(async (trx) => run(trx, await select(trx, true)));
  }
  return run(db, await select(db, false));
}

/** Age (ms) of the oldest event still waiting to be published, 0 when none waits. */
export async function outboxLagMs(db: Knex): Promise<number> {
  const row = (await pending(db(OUTBOX_TABLE).min({ oldest: 'created_at' })).first()) as
    { oldest: number | string | null } | undefined;
  return row?.oldest == null ? 0 : Math.max(0, Date.now() - Number(row.oldest));
}

export async function parkedCount(db: Knex): Promise<number> {
  const row = (await db(OUTBOX_TABLE).whereNotNull('parked_at').count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Unpublished events waiting behind a parked event of their aggregate (they go once it is re-driven). */
export async function blockedCount(db: Knex): Promise<number> {
  const row = (await db({ o: OUTBOX_TABLE })
    .whereNull('o.published_at')
    .whereNull('o.parked_at')
    .whereExists((e) =>
      e
        .select(db.raw('1'))
        .from({ p: OUTBOX_TABLE })
        .whereRaw('p.aggregate_type = o.aggregate_type and p.aggregate_id = o.aggregate_id and p.seq < o.seq')
        .whereNotNull('p.parked_at')
        .whereNull('p.published_at'),
    )
    .count({ n: '*' })
    .first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Deletes published rows older than the retention age; returns how many. */
export async function purgePublished(db: Knex, retentionMs: number): Promise<number> {
  return db(OUTBOX_TABLE)
    .whereNotNull('published_at')
    .andWhere('published_at', '<', Date.now() - retentionMs)
    .delete();
}
