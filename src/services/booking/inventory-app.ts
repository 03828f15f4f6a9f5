/**
 * An inventory service (flight, hotel or car): reserve by Idempotency-Key, cancel by the forward
 * key (leaving a tombstone when the reservation has not arrived yet), and audit reads.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import { describeIssues } from '../../shared/trip-schema';
import { badRequest, HttpProblem } from '../../http/problem';
import { registerUndoRoute } from '../compensate-by-key';
import { insertKeyedRow, type KeyedRow } from '../keyed-rows';
import { handleIdempotent, type ServiceContext } from '../../http/idempotent-route';
import { tripIdSchema } from '../../http/common-schemas';
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

/** Registers the inventory routes of one catalog on an app. */
export function registerInventoryRoutes<T extends object>(
  app: FastifyInstance,
  ctx: ServiceContext,
  catalog: InventoryCatalog<T>,
): void {
  const bodySchema = z.object({ tripId: tripIdSchema }).and(catalog.schema);
  const announced = {
    aggregateType: 'reservation',
    payload: (row: ReservationRow) => ({ service: catalog.kind, ...reservationView(row) }),
  };

  app.post('/reservations', (request, reply) =>
    handleIdempotent(ctx, request, reply, {
      parse: async (body, db) => {
        const parsed = bodySchema.safeParse(body);
        if (!parsed.success) throw badRequest('invalid reservation request', describeIssues(parsed.error));
        const resource = await db('resources')
          .where({ id: catalog.resourceOf(parsed.data) })
          .first();
        if (!resource) {
          throw new HttpProblem(
            422,
            `UNKNOWN_${catalog.kind.toUpperCase()}`,
            `Unknown ${catalog.kind}`,
            catalog.label(parsed.data),
          );
        }
        return { req: parsed.data, capacity: Number(resource.capacity_per_day) };
      },
      execute: async ({ req, capacity }, trx, key) => {
        const days = catalog.daysOf(req);
        const quantity = catalog.quantityOf(req);
        const resourceId = catalog.resourceOf(req);
        if (!(await allocate(trx, resourceId, capacity, days, quantity))) {
          throw new HttpProblem(409, 'SOLD_OUT', 'Sold out', `no availability for ${catalog.label(req)}`);
        }
        const { tripId, ...details } = req as T & { tripId: string };
        const row = await insertKeyedRow<ReservationRow>(
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
          { ...announced, eventType: 'ReservationCreated' },
        );
        return { status: 201, body: reservationView(row) };
      },
    }),
  );

  registerUndoRoute<ReservationRow['status'], ReservationRow>(app, ctx, {
    path: '/reservations/cancel',
    table: 'reservations',
    status: { active: 'ACTIVE', undone: 'CANCELLED' },
    show: (row) => ({ reservation: reservationView(row) }),
    event: { ...announced, eventType: 'ReservationCancelled' },
    release: async (row, trx) => {
      for (const day of JSON.parse(row.days) as string[]) {
        await trx('allocations').where({ resource_id: row.resource_id, day }).decrement('reserved', row.quantity);
      }
    },
  });

  app.get('/reservations', async (request) => {
    const query = z.object({ tripId: tripIdSchema }).safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await ctx
      .db<ReservationRow>('reservations')
      .where({ trip_id: query.data.tripId })
      .orderBy('created_at');
    return rows.map(reservationView);
  });
}
