/**
 * An inventory service (flight, hotel or car): reserve by Idempotency-Key, cancel by the forward
 * key (leaving a tombstone when the reservation has not arrived yet), and audit reads.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import { describeIssues } from '../../shared/trip-schema';
import { badRequest, soldOut, unknownResource } from '../../http/problem';
import { registerUndoRoute, undoHandler, type UndoRoute } from '../compensate-by-key';
import { insertKeyedRow, type KeyedRow } from '../keyed-rows';
import { handleIdempotent, type IdempotentHandler, type ServiceContext } from '../../http/idempotent-route';
import { auditQuerySchema, tripIdSchema } from '../../http/common-schemas';
import type { InventoryCatalog } from './catalog';

export interface ReservationRow extends KeyedRow<'ACTIVE' | 'CANCELLED'> {
  resource_id: string;
  days: string;
  quantity: number;
  details: string;
}

/** The audit view of a reservation (docs/architecture.md). */
export function reservationView(row: ReservationRow) {
  return {
    id: row.id,
    tripId: row.trip_id,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    resourceId: row.resource_id,
    days: JSON.parse(row.days) as string[],
    quantity: row.quantity,
    details: JSON.parse(row.details) as unknown,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

async function allocate(trx: Knex, resourceId: string, capacity: number, days: string[], quantity: number) {
  for (const day of days) {
    await trx('allocations')
      .insert({ resource_id: resourceId, day, capacity, reserved: 0 })
      .onConflict(['resource_id', 'day'])
      .ignore();
    // The guard in the WHERE clause makes check-and-reserve one atomic statement.
    const updated = await trx('allocations')
      .where({ resource_id: resourceId, day })
      .andWhereRaw('reserved + ? <= capacity', [quantity])
      .increment('reserved', quantity);
    if (updated !== 1) return false;
  }
  return true;
}

/** The body of `POST /reservations` (and of a 2PC prepare): the trip id and the catalog's part of the trip. */
export const reservationRequestSchema = <T extends object>(catalog: InventoryCatalog<T>) =>
  z.object({ tripId: tripIdSchema }).and(catalog.schema);

/** Validates a reservation body (tripId + the catalog's request) and finds the resource's capacity. */
export async function parseReservation<T extends object>(
  db: Knex,
  catalog: InventoryCatalog<T>,
  body: unknown,
): Promise<ReservationInput<T>> {
  const parsed = reservationRequestSchema(catalog).safeParse(body);
  if (!parsed.success) throw badRequest('invalid reservation request', describeIssues(parsed.error));
  const resource = await db('resources')
    .where({ id: catalog.resourceOf(parsed.data) })
    .first();
  if (!resource) throw unknownResource(catalog.kind, catalog.label(parsed.data));
  return { req: parsed.data, capacity: Number(resource.capacity_per_day) };
}

export interface ReservationInput<T> {
  req: T & { tripId: string };
  capacity: number;
}

const announced = (catalog: Pick<InventoryCatalog<unknown>, 'kind'>) => ({
  aggregateType: 'reservation',
  payload: (row: ReservationRow) => ({ service: catalog.kind, ...reservationView(row) }),
});

/**
 * The business operation of every flavour (saga route, choreography step, 2PC prepare): take the
 * capacity, write the reservation keyed by `key` and its outbox event, all through `trx`.
 * Throws SOLD_OUT (409) when full.
 */
export async function reserveInventory<T extends object>(
  trx: Knex.Transaction,
  catalog: InventoryCatalog<T>,
  { req, capacity }: ReservationInput<T>,
  key: string,
  options: { notify?: boolean } = {},
): Promise<ReservationRow> {
  const days = catalog.daysOf(req);
  const quantity = catalog.quantityOf(req);
  const resourceId = catalog.resourceOf(req);
  if (!(await allocate(trx, resourceId, capacity, days, quantity))) {
    throw soldOut(catalog.label(req));
  }
  const { tripId, ...details } = req;
  return insertKeyedRow<ReservationRow>(
    trx,
    'reservations',
    {
      trip_id: tripId,
      idempotency_key: key,
      resource_id: resourceId,
      days: JSON.stringify(days),
      quantity,
      details: JSON.stringify(details),
      status: 'ACTIVE',
    },
    { ...announced(catalog), eventType: 'ReservationCreated' },
    options,
  );
}

/** `POST /reservations`: reserve by key (also what a choreography participant runs on its event). */
export function reserveHandler<T extends object>(catalog: InventoryCatalog<T>): IdempotentHandler<ReservationInput<T>> {
  return {
    parse: (body, db) => parseReservation(db, catalog, body),
    execute: async (input, trx, key) => {
      const row = await reserveInventory(trx, catalog, input, key);
      return { status: 201, body: reservationView(row) };
    },
  };
}

/** How a reservation is undone: status, the inventory it gives back, the event that says so. */
function reservationUndo(
  catalog: Pick<InventoryCatalog<unknown>, 'kind'>,
): UndoRoute<ReservationRow['status'], ReservationRow> {
  return {
    path: '/reservations/cancel',
    table: 'reservations',
    status: { active: 'ACTIVE', undone: 'CANCELLED' },
    show: (row) => ({ reservation: reservationView(row) }),
    event: { ...announced(catalog), eventType: 'ReservationCancelled' },
    release: async (row, trx) => {
      for (const day of JSON.parse(row.days) as string[]) {
        await trx('allocations').where({ resource_id: row.resource_id, day }).decrement('reserved', row.quantity);
      }
    },
  };
}

/** `POST /reservations/cancel`: undo whatever the forward key created (a tombstone if nothing yet). */
export function cancelReservationHandler(ctx: ServiceContext, catalog: Pick<InventoryCatalog<unknown>, 'kind'>) {
  return undoHandler(ctx, reservationUndo(catalog));
}

/** Registers the inventory routes of one catalog on an app. */
export function registerInventoryRoutes<T extends object>(
  app: FastifyInstance,
  ctx: ServiceContext,
  catalog: InventoryCatalog<T>,
): void {
  app.post('/reservations', (request, reply) => handleIdempotent(ctx, request, reply, reserveHandler(catalog)));
  registerUndoRoute(app, ctx, reservationUndo(catalog));

  app.get('/reservations', async (request) => {
    const query = auditQuerySchema.safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await ctx
      .db<ReservationRow>('reservations')
      .where({ trip_id: query.data.tripId })
      .orderBy('created_at');
    return rows.map(reservationView);
  });
}
