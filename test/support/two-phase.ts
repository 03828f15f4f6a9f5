/** What the two-phase tests look at besides the audit endpoints: prepared transactions and allocations. */
import knexFactory, { type Knex } from 'knex';
import { GID_PREFIX } from '../../src/twophase/protocol';
import type { TripView } from '../../src/shared/trip';
import { readTwoPhaseTrip } from '../../src/twophase';
import type { TwoPhaseConfig } from '../../src/config';

export function connect(url: string, schema = 'public'): Knex {
  return knexFactory({ client: 'pg', connection: url, searchPath: [schema], pool: { min: 0, max: 4 } });
}

/** Our prepared transactions in the database behind `db`, optionally of one trip. */
export async function preparedGids(db: Knex, tripId?: string): Promise<string[]> {
  const r = await db.raw<{ rows: Array<{ gid: string }> }>(
    "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ? || '%' ORDER BY gid",
    [tripId ? `${GID_PREFIX}${tripId}:` : GID_PREFIX],
  );
  return r.rows.map((row) => row.gid);
}

/** Reserved units of one resource and day in an inventory service's schema. */
export async function reserved(db: Knex, schema: string, resourceId: string, day: string): Promise<number> {
  const row = await db.withSchema(schema).from('allocations').where({ resource_id: resourceId, day }).first();
  return Number(row?.reserved ?? 0);
}

/** Reads the trip until it is settled (or the time is up) and returns the last view. */
export async function settledView(config: Pick<TwoPhaseConfig, 'url'>, tripId: string, ms = 30_000): Promise<TripView> {
  const deadline = Date.now() + ms;
  for (;;) {
    const view = await readTwoPhaseTrip(config, tripId, { waitMs: 2000 });
    if (view && ['CONFIRMED', 'COMPENSATED', 'NEEDS_ATTENTION'].includes(view.status)) return view;
    if (Date.now() > deadline) throw new Error(`trip ${tripId} not settled: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
