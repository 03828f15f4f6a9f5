/**
 * Claiming a batch: for the oldest unpublished events, the head of each aggregate (its oldest
 * unpublished event) and the events right behind it. On PostgreSQL the claimed rows are locked
 * `FOR UPDATE SKIP LOCKED` in a transaction held open until they are marked, so several relays
 * share the aggregates without publishing one twice, and a relay that dies mid-batch loses its
 * locks (the rows stay unpublished and are sent again). On SQLite (one relay) nothing is locked.
 * Every query here is driven by the partial indexes of `outboxClaimMigration` (see the EXPLAIN
 * test in test/integration/outbox-claim-depth.test.ts).
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import { aggregateKey, type OutboxRow } from '../outbox/event';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

/** Beyond this many aggregates in backoff or parked at once (an outage), the rest may share the window. */
const MAX_EXCLUDED = 1000;
/** Events of one aggregate one batch takes at most: a long chain is published one ack after another. */
export const MAX_CHAIN = 4;

/** How many of the oldest unpublished events a claim of `limit` looks at. */
export const candidateWindow = (limit: number) => Math.max(4 * limit, 1000);

interface WindowRow {
  seq: number;
  aggregate_type: string;
  aggregate_id: string;
  parked_at: number | null;
  next_attempt_at: number;
}

const due = (r: Pick<OutboxRow, 'parked_at' | 'next_attempt_at'>, now: number) =>
  r.parked_at == null && Number(r.next_attempt_at) <= now;

/** Aggregates waiting in backoff or parked (few, from the partial waiting index). */
async function waitingAggregates(q: Knex | Knex.Transaction, now: number) {
  return (await q(OUTBOX_TABLE)
    .distinct('aggregate_type', 'aggregate_id')
    .whereNull('published_at')
    .whereRaw('(parked_at IS NOT NULL OR next_attempt_at > 0)')
    .whereRaw('(parked_at IS NOT NULL OR next_attempt_at > ?)', [now])
    .limit(MAX_EXCLUDED)) as Array<{ aggregate_type: string; aggregate_id: string }>;
}

/**
 * The candidate query: the `window` oldest unpublished events (aggregates in `waiting` left out so
 * they cannot fill it), restricted to aggregates whose oldest unpublished event is in the window:
 * one index probe per distinct aggregate, not per row.
 */
export function candidateQuery(
  window: number,
  waiting: Array<{ aggregate_type: string; aggregate_id: string }> = [],
): { sql: string; bindings: Array<string | number> } {
  const exclude =
    waiting.length === 0 ? '' : `AND (aggregate_type, aggregate_id) NOT IN (${waiting.map(() => '(?, ?)').join(', ')})`;
  const sql = `
    WITH win AS (
      SELECT seq, aggregate_type, aggregate_id, parked_at, next_attempt_at FROM ${OUTBOX_TABLE}
      WHERE published_at IS NULL ${exclude}
      ORDER BY seq LIMIT ?
    ), firsts AS (
      SELECT aggregate_type, aggregate_id, min(seq) AS head FROM win GROUP BY aggregate_type, aggregate_id
    ), heads AS MATERIALIZED (
      SELECT f.aggregate_type, f.aggregate_id, f.head FROM firsts f
      WHERE NOT EXISTS (
        SELECT 1 FROM ${OUTBOX_TABLE} p
        WHERE p.published_at IS NULL AND p.aggregate_type = f.aggregate_type
          AND p.aggregate_id = f.aggregate_id AND p.seq < f.head)
    )
    SELECT w.seq, w.aggregate_type, w.aggregate_id, w.parked_at, w.next_attempt_at
    FROM win w JOIN heads h ON h.aggregate_type = w.aggregate_type AND h.aggregate_id = w.aggregate_id
    ORDER BY w.seq`;
  return { sql, bindings: [...waiting.flatMap((w) => [w.aggregate_type, w.aggregate_id]), window] };
}

async function candidateRows(q: Knex | Knex.Transaction, window: number, now: number): Promise<WindowRow[]> {
  const { sql, bindings } = candidateQuery(window, await waitingAggregates(q, now));
  const result = (await q.raw(sql, bindings)) as { rows?: WindowRow[] } | WindowRow[];
  return Array.isArray(result) ? result : (result.rows ?? []);
}

/**
 * Groups rows (in `seq` order) into per-aggregate chains: each starts at the aggregate's head and
 * runs on while its events are due, at most `MAX_CHAIN` long. Chains are taken oldest head first
 * until `limit` events are chosen (the last one shortened to fit).
 */
export function chainsOf<
  R extends Pick<OutboxRow, 'seq' | 'aggregate_type' | 'aggregate_id' | 'parked_at' | 'next_attempt_at'>,
>(rows: R[], limit: number, now: number): R[][] {
  const chains = new Map<string, R[]>();
  const closed = new Set<string>();
  for (const r of rows) {
    const key = aggregateKey(r.aggregate_type, r.aggregate_id);
    if (closed.has(key)) continue;
    const chain = chains.get(key);
    if (!due(r, now) || (chain?.length ?? 0) >= MAX_CHAIN) {
      closed.add(key);
      continue;
    }
    if (chain) chain.push(r);
    else chains.set(key, [r]);
  }
  const chosen: R[][] = [];
  let total = 0;
  for (const chain of chains.values()) {
    if (total >= limit) break;
    const part = chain.slice(0, limit - total);
    chosen.push(part);
    total += part.length;
  }
  return chosen;
}

/**
 * Claims up to `limit` events as per-aggregate chains, in order within each chain. On PostgreSQL
 * call it inside the transaction that will mark them: the rows stay locked until it ends.
 */
export async function claimBatch(q: Knex | Knex.Transaction, limit: number): Promise<OutboxRow[][]> {
  const now = Date.now();
  // Every chain the window offers, oldest head first; the locks decide which are ours.
  let planned = chainsOf(await candidateRows(q, candidateWindow(limit), now), Infinity, now);
  if (planned.length === 0) return [];
  if (dialectOf(q) === 'pg') {
    // Lock heads oldest first, skipping those another batch (this relay's or another's) holds,
    // as many as fill the batch at the chains' average length.
    const plannedRows = planned.reduce((n, c) => n + c.length, 0);
    const heads = Math.max(1, Math.ceil((limit * planned.length) / plannedRows));
    const locked = new Set(
      (
        (await q(OUTBOX_TABLE)
          .select('seq')
          .whereIn(
            'seq',
            planned.map((c) => Number(c[0]?.seq)),
          )
          .whereNull('published_at')
          .orderBy('seq')
          .limit(heads)
          .forUpdate()
          .skipLocked()) as Array<{ seq: number }>
      ).map((r) => Number(r.seq)),
    );
    planned = planned.filter((c) => locked.has(Number(c[0]?.seq)));
  }
  const chosen: typeof planned = [];
  let total = 0;
  for (const chain of planned) {
    if (total >= limit) break;
    chosen.push(chain.slice(0, limit - total));
    total += Math.min(chain.length, limit - total);
  }
  if (chosen.length === 0) return [];
  const select = q<OutboxRow>(OUTBOX_TABLE)
    .select('*')
    .whereIn(
      'seq',
      chosen.flat().map((r) => Number(r.seq)),
    )
    .whereNull('published_at')
    .orderBy('seq');
  // Between the candidates and the locks another relay may have published or failed a head: one
  // it published is gone, one it failed is no longer due; either drops its chain, which cannot
  // move without its head. The rows behind a head are locked too (nobody else can hold them).
  if (dialectOf(q) === 'pg') select.forUpdate().skipLocked();
  const fresh = new Map(
    ((await select) as OutboxRow[]).map((r) => [
      Number(r.seq),
      { ...r, seq: Number(r.seq), attempts: Number(r.attempts) },
    ]),
  );
  const claimed: OutboxRow[][] = [];
  for (const plan of chosen) {
    const chain: OutboxRow[] = [];
    for (const p of plan) {
      const row = fresh.get(Number(p.seq));
      if (!row || !due(row, now)) break;
      chain.push(row);
    }
    if (chain.length > 0) claimed.push(chain);
  }
  return claimed;
}
