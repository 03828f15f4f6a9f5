/**
 * Claiming a batch: for the oldest unpublished events, the head of each aggregate (its oldest
 * unpublished event) and the events right behind it. On PostgreSQL the heads are locked
 * `FOR UPDATE SKIP LOCKED` in a transaction held open until the batch is marked, so several
 * relays share the aggregates without publishing one twice (nobody publishes an aggregate's events
 * without holding its head), and a relay that dies mid-batch loses its locks (the rows stay
 * unpublished and are sent again). On SQLite (one relay) nothing is locked. Every query here is
 * driven by an index, whatever the statistics say (see test/integration/outbox-claim-depth.test.ts
 * and outbox-claim-stale-stats.test.ts).
 */
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import { aggregateKey, type OutboxRow } from '../outbox/event';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

/** Beyond this many aggregates in backoff or parked at once (an outage), the rest may share the window. */
const MAX_EXCLUDED = 1000;
/**
 * Events of one aggregate one batch takes at most: a chain is published one ack after another.
 * Long enough that a batch can fill from the few aggregates other batches (this relay's next one,
 * other relays') leave free: with chains of 4, a second relay on `bench:outbox` (200 aggregates)
 * spent 35–55% more CPU per event in the relays and their backends than one; with 16, under 10%.
 */
export const MAX_CHAIN = 16;

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

/**
 * The window query: the `window` oldest unpublished events, leaving out the aggregates waiting in
 * backoff or parked (few, from the partial waiting index) so a parked aggregate with a long tail
 * cannot fill it. Since every older unpublished event of an aggregate is in the window too, an
 * aggregate's first event here is its head (its oldest unpublished event): no probe per aggregate.
 */
export function candidateQuery(window: number, now: number): { sql: string; bindings: number[] } {
  const sql = `
    SELECT seq, aggregate_type, aggregate_id, parked_at, next_attempt_at FROM ${OUTBOX_TABLE}
    WHERE published_at IS NULL AND (aggregate_type, aggregate_id) NOT IN (
      SELECT DISTINCT aggregate_type, aggregate_id FROM ${OUTBOX_TABLE}
      WHERE published_at IS NULL AND (parked_at IS NOT NULL OR next_attempt_at > 0)
        AND (parked_at IS NOT NULL OR next_attempt_at > ?)
      LIMIT ${MAX_EXCLUDED})
    ORDER BY seq LIMIT ?`;
  return { sql, bindings: [now, window] };
}

/**
 * Keeps this transaction's statements on their indexes (PostgreSQL; `SET LOCAL`, so until the
 * mark commits). An outbox's size swings faster than autovacuum's statistics: right after a burst
 * they still say the table is (nearly) empty, and the planner then reads every entry of the
 * unpublished index, the published rows' dead ones included, or scans the whole table to mark 500
 * rows, making every round cost O(table) instead of O(batch).
 */
export async function preferIndexScans(q: Knex | Knex.Transaction): Promise<void> {
  if (dialectOf(q) === 'pg')
    await q.raw(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`);
}

async function candidateRows(q: Knex | Knex.Transaction, window: number, now: number): Promise<WindowRow[]> {
  const { sql, bindings } = candidateQuery(window, now);
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

/** The events of `chains`, oldest head first, until `limit` of them. */
const takeUpTo = <R>(chains: R[][], limit: number): R[] => chains.flat().slice(0, limit);

/**
 * PostgreSQL: locks the free heads of `planned` oldest first `FOR UPDATE SKIP LOCKED`, at most
 * `heads` of them, and reads the chains behind the ones locked, in one statement. A head another
 * batch holds (this relay's next one, or another relay's) is skipped; one published meanwhile is
 * locked in its new version and dropped. Heads are found by primary key only: with stale
 * statistics a `published_at IS NULL` there lets the planner walk every unpublished row instead.
 * The rows behind a locked head need no lock: nobody else can publish them without holding that
 * head. Each chain is read through the partial index on (aggregate, seq), from its head to its
 * last planned event, so an event that committed late with a seq in between is read too.
 */
async function lockChains(trx: Knex | Knex.Transaction, planned: WindowRow[][], heads: number): Promise<OutboxRow[]> {
  const first = planned.map((c) => Number(c[0]?.seq));
  const last = planned.map((c) => Number(c[c.length - 1]?.seq));
  const result = (await trx.raw(
    `WITH locked AS MATERIALIZED (
       SELECT seq, aggregate_type, aggregate_id, published_at FROM ${OUTBOX_TABLE}
       WHERE seq = ANY(?::bigint[])
       ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED
     ), chains AS MATERIALIZED (
       SELECT h.seq, h.aggregate_type, h.aggregate_id, p.last
       FROM locked h JOIN unnest(?::bigint[], ?::bigint[]) AS p(head, last) ON p.head = h.seq
       WHERE h.published_at IS NULL
     )
     SELECT o.* FROM chains c CROSS JOIN LATERAL (
       SELECT * FROM ${OUTBOX_TABLE} o
       WHERE o.aggregate_type = c.aggregate_type AND o.aggregate_id = c.aggregate_id
         AND o.published_at IS NULL AND o.seq BETWEEN c.seq AND c.last
     ) o
     ORDER BY o.seq`,
    [first, heads, first, last],
  )) as { rows: OutboxRow[] };
  return result.rows;
}

/**
 * Claims up to `limit` events as per-aggregate chains, in order within each chain. On PostgreSQL
 * call it inside the transaction that will mark them: the heads stay locked until it ends.
 */
export async function claimBatch(q: Knex | Knex.Transaction, limit: number): Promise<OutboxRow[][]> {
  const now = Date.now();
  await preferIndexScans(q);
  // Every chain the window offers, oldest head first; the locks decide which are ours.
  const planned = chainsOf(await candidateRows(q, candidateWindow(limit), now), Infinity, now);
  if (planned.length === 0) return [];
  let rows: OutboxRow[];
  if (dialectOf(q) === 'pg') {
    // As many heads as fill the batch at the chains' average length.
    const plannedRows = planned.reduce((n, c) => n + c.length, 0);
    rows = await lockChains(q, planned, Math.max(1, Math.ceil((limit * planned.length) / plannedRows)));
  } else {
    // SQLite: one relay, one batch at a time, nothing to lock.
    rows = (await q<OutboxRow>(OUTBOX_TABLE)
      .select('*')
      .whereIn(
        'seq',
        takeUpTo(planned, limit).map((r) => Number(r.seq)),
      )
      .whereNull('published_at')
      .orderBy('seq')) as OutboxRow[];
  }
  // Each aggregate's unpublished events as read now, in seq order.
  const fresh = new Map<string, OutboxRow[]>();
  for (const r of rows) {
    const key = aggregateKey(r.aggregate_type, r.aggregate_id);
    const row = { ...r, seq: Number(r.seq), attempts: Number(r.attempts) };
    const events = fresh.get(key);
    if (events) events.push(row);
    else fresh.set(key, [row]);
  }
  // Chains in plan order (oldest head first) until the batch is full. A chain whose head was not
  // ours is gone; one stops at an event no longer due (another relay failed it meanwhile).
  const claimed: OutboxRow[][] = [];
  let total = 0;
  for (const plan of planned) {
    if (total >= limit) break;
    const head = plan[0];
    const events = head ? fresh.get(aggregateKey(head.aggregate_type, head.aggregate_id)) : undefined;
    if (!events || events[0]?.seq !== Number(head?.seq)) continue;
    const chain: OutboxRow[] = [];
    for (const row of events) {
      if (!due(row, now) || total + chain.length >= limit) break;
      chain.push(row);
    }
    if (chain.length > 0) claimed.push(chain);
    total += chain.length;
  }
  return claimed;
}
