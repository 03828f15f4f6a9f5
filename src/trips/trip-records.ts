/**
 * The trip API's own database ("api"): the trips table (who asked for which trip, and its last
 * known status) next to the API's idempotency keys. One home for its schema and its writes.
 */
import type { Knex } from 'knex';
import type { Config } from '../config';
import { openDatabase, type Db } from '../db/knex';
import type { Migration } from '../db/migrations';
import { choreographyInboxMigration } from '../inbox/inbox';
import { idempotencyMigration } from '../idempotency/store';
import { outboxMigrations } from '../outbox/outbox-table';
import type { TripRequest, TripView } from '../shared/trip';
import { canMoveTo, TRIP_STATUSES, type TripStatus } from '../shared/trip-status';
import { maskToken, redactedRequest } from '../shared/trip-summary';

export const tripsMigration: Migration = {
  name: '0002_trips',
  async up(db) {
    await db.schema.createTable('trips', (t) => {
      t.string('trip_id', 255).primary();
      t.string('principal', 255);
      t.string('customer_id', 64).notNullable();
      t.string('status', 32).notNullable();
      t.text('request').notNullable();
      t.text('view');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['principal', 'created_at']);
      t.index(['status']);
    });
  },
};

/** Which saga flavour runs each trip (`orchestrated` for the rows of before flavours). */
export const tripFlavorMigration: Migration = {
  name: '0003_trip_flavor',
  async up(db) {
    await db.schema.alterTable('trips', (t) => {
      t.string('flavor', 16).notNullable().defaultTo('orchestrated');
    });
  },
};

/** Rows written before requests were redacted held the full payment token: keep only its end. */
export const tripsRedactTokenMigration: Migration = {
  name: '0101_trips_redact_payment_token',
  async up(db) {
    const rows = await db<{ trip_id: string; request: string }>('trips').select('trip_id', 'request');
    for (const row of rows) {
      const request = JSON.parse(row.request) as { payment?: { token?: unknown } };
      const token = request.payment?.token;
      if (typeof token !== 'string' || token.startsWith('…')) continue;
      const redacted = { ...request, payment: { ...request.payment, token: maskToken(token) } };
      await db('trips')
        .where({ trip_id: row.trip_id })
        .update({ request: JSON.stringify(redacted) });
    }
  },
};

/** Every migration of the API database, in order (other modules append theirs here). */
export const apiMigrations: Migration[] = [
  idempotencyMigration,
  tripsMigration,
  ...outboxMigrations,
  tripFlavorMigration,
  choreographyInboxMigration,
  tripsRedactTokenMigration,
];

export function openApiDatabase(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Db> {
  return openDatabase('api', config, { migrations: apiMigrations });
}

export interface TripRecord {
  tripId: string;
  principal: string | null;
  /** The saga flavour that runs the trip (`orchestrated`, `choreographed`, `2pc`). */
  flavor: string;
  customerId: string;
  status: TripStatus;
  request: TripRequest;
  view: TripView | null;
  createdAt: number;
  updatedAt: number;
}

interface TripRow {
  trip_id: string;
  principal: string | null;
  flavor: string;
  customer_id: string;
  status: string;
  request: string;
  view: string | null;
  created_at: number;
  updated_at: number;
}

function toRecord(row: TripRow): TripRecord {
  return {
    tripId: row.trip_id,
    principal: row.principal,
    flavor: row.flavor,
    customerId: row.customer_id,
    status: row.status as TripStatus,
    request: JSON.parse(row.request) as TripRequest,
    view: row.view ? (JSON.parse(row.view) as TripView) : null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * Records a trip when it is requested (the payment token masked: the API database never holds
 * card data); a second insert of the same trip is ignored, except that
 * it names the principal of a row the worker recorded first (its end record knows no principal).
 * Returns whether this call inserted it.
 */
export async function insertTrip(
  db: Knex,
  trip: { tripId: string; principal: string | null; request: TripRequest; status: TripStatus; flavor?: string },
): Promise<boolean> {
  const now = Date.now();
  const inserted = await db('trips')
    .insert({
      trip_id: trip.tripId,
      principal: trip.principal,
      flavor: trip.flavor ?? 'orchestrated',
      customer_id: trip.request.customerId,
      status: trip.status,
      request: JSON.stringify(redactedRequest(trip.request)),
      view: null,
      created_at: now,
      updated_at: now,
    })
    .onConflict('trip_id')
    .ignore()
    .returning('trip_id');
  if (trip.principal !== null) await claimOwnerless(db, trip.tripId, trip.principal);
  return inserted.length > 0;
}

/**
 * Names the owner of a trip row written without one (by a worker that did not know it); a row
 * that has an owner keeps it. The trip id is derived from (principal, key), so only its owner's
 * requests reach it.
 */
export async function claimOwnerless(db: Knex, tripId: string, principal: string): Promise<void> {
  await db('trips').where({ trip_id: tripId }).whereNull('principal').update({ principal });
}

/**
 * Stores the latest view of a trip (its status included), unless the stored status is already
 * past it: readers race (a late `Prefer: wait` answer, a retried end record), and a CONFIRMED
 * view must never overwrite the CANCELLED that followed it. Returns whether it was stored.
 */
export async function updateTripView(db: Knex, view: TripView): Promise<boolean> {
  // A view that would take the trip back is stale.
  const stale = TRIP_STATUSES.filter((from) => !canMoveTo(from, view.status));
  const updated = await db('trips')
    .where({ trip_id: view.tripId })
    .whereNotIn('status', stale)
    .update({ status: view.status, view: JSON.stringify(view), updated_at: Date.now() });
  return updated > 0;
}

export async function findTrip(db: Knex, tripId: string): Promise<TripRecord | undefined> {
  const row = await db<TripRow>('trips').where({ trip_id: tripId }).first();
  return row ? toRecord(row) : undefined;
}

/** Where a page of trips ended: the last row's (created_at, trip_id), the list's sort key. */
export interface TripCursor {
  createdAt: number;
  tripId: string;
}

/**
 * A page of trips, newest first (ties by trip id), after `after` when given. `statuses` filters
 * on the stored status in SQL, so the limit counts only rows that can match.
 */
export async function listTrips(
  db: Knex,
  filter: { principal?: string; statuses?: readonly TripStatus[]; limit?: number; after?: TripCursor },
): Promise<TripRecord[]> {
  const q = db<TripRow>('trips')
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'trip_id', order: 'desc' },
    ])
    .limit(filter.limit ?? 100);
  if (filter.principal !== undefined) q.where({ principal: filter.principal });
  if (filter.statuses) q.whereIn('status', [...filter.statuses]);
  const after = filter.after;
  if (after) {
    q.where((w) =>
      w
        .where('created_at', '<', after.createdAt)
        .orWhere((same) => same.where('created_at', '=', after.createdAt).andWhere('trip_id', '<', after.tripId)),
    );
  }
  return (await q).map(toRecord);
}
