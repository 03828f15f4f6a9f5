/**
 * What the relay reports and exports as gauges: lag, parked and blocked-by-parked counts. Each
 * reads the partial indexes over unpublished rows, so it stays cheap with a million waiting.
 */
import type { Knex } from 'knex';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

/** Age (ms) of the oldest event still waiting to be published (oldest by `seq`), 0 when none waits. */
export async function outboxLagMs(db: Knex): Promise<number> {
  const row = (await db(OUTBOX_TABLE)
    .select('created_at')
    .whereNull('published_at')
    .whereNull('parked_at')
    .orderBy('seq')
    .first()) as { created_at: number | string } | undefined;
  return row ? Math.max(0, Date.now() - Number(row.created_at)) : 0;
}

const parked = (q: Knex.QueryBuilder) =>
  q
    .whereNull('published_at')
    .whereNotNull('parked_at')
    // Implied by the two above; spelled out so the planner picks the partial waiting index.
    .whereRaw('(parked_at IS NOT NULL OR next_attempt_at > 0)');

export async function parkedCount(db: Knex): Promise<number> {
  const row = (await parked(db(OUTBOX_TABLE)).count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Unpublished events waiting behind a parked event of their aggregate (they go once it is re-driven). */
export async function blockedCount(db: Knex): Promise<number> {
  const firstParked = parked(db(OUTBOX_TABLE).select('aggregate_type', 'aggregate_id').min({ seq: 'seq' })).groupBy(
    'aggregate_type',
    'aggregate_id',
  );
  const row = (await db({ o: OUTBOX_TABLE })
    .join(firstParked.as('p'), (j) =>
      j
        .on('o.aggregate_type', 'p.aggregate_type')
        .andOn('o.aggregate_id', 'p.aggregate_id')
        .andOn('o.seq', '>', 'p.seq'),
    )
    .whereNull('o.published_at')
    .whereNull('o.parked_at')
    .count({ n: '*' })
    .first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}
