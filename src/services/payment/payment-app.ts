/**
 * The payment service: capture a charge by Idempotency-Key, refund by the forward key (with a
 * tombstone when the charge has not arrived yet), and audit reads.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Migration } from '../../db/migrations';
import { idempotencyMigration } from '../../idempotency/store';
import { appendEvent } from '../../outbox/append-event';
import { outboxMigration } from '../../outbox/outbox-table';
import { describeIssues, paymentSchema } from '../../shared/trip-schema';
import { compensateByKey } from '../compensate-by-key';
import { cancelRequestSchema, tripIdSchema, type CancelOutcome } from '../../http/common-schemas';
import { handleIdempotent, type ServiceContext } from '../../http/idempotent-route';
import { badRequest, HttpProblem } from '../../http/problem';

/** Test tokens: these succeed; `tok_declined` is always declined; anything else is unknown. */
export const APPROVED_TOKENS = ['tok_visa', 'tok_mastercard', 'tok_amex'];
export const DECLINED_TOKEN = 'tok_declined';

export interface ChargeRow {
  id: string;
  trip_id: string;
  idempotency_key: string;
  token_last4: string;
  amount_cents: number;
  currency: string;
  status: 'CAPTURED' | 'REFUNDED';
  created_at: number;
  updated_at: number;
}

export const paymentMigrations: Migration[] = [
  idempotencyMigration,
  {
    name: '0002_charges',
    async up(db) {
      await db.schema.createTable('charges', (t) => {
        t.string('id', 36).primary();
        t.string('trip_id', 255).notNullable().index();
        t.string('idempotency_key', 255).notNullable().unique();
        t.string('token_last4', 4).notNullable();
        t.bigInteger('amount_cents').notNullable();
        t.string('currency', 3).notNullable();
        t.string('status', 16).notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('updated_at').notNullable();
      });
    },
  },
  outboxMigration,
];

export function chargeView(row: ChargeRow) {
  return {
    id: row.id,
    tripId: row.trip_id,
    idempotencyKey: row.idempotency_key,
    status: row.status,
    amountCents: Number(row.amount_cents),
    currency: row.currency,
    tokenLast4: row.token_last4,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

const chargeRequestSchema = z.object({ tripId: tripIdSchema }).and(paymentSchema);

export function registerPaymentRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post('/charges', (request, reply) =>
    handleIdempotent(ctx, request, reply, {
      parse: (body) => {
        const parsed = chargeRequestSchema.safeParse(body);
        if (!parsed.success) throw badRequest('invalid charge request', describeIssues(parsed.error));
        const { token } = parsed.data;
        if (token !== DECLINED_TOKEN && !APPROVED_TOKENS.includes(token)) {
          throw new HttpProblem(422, 'UNKNOWN_TOKEN', 'Unknown payment token', `token ending ${token.slice(-4)}`);
        }
        return parsed.data;
      },
      execute: async (req, trx, key) => {
        if (req.token === DECLINED_TOKEN) {
          throw new HttpProblem(
            402,
            'PAYMENT_DECLINED',
            'The card was declined',
            `charge of ${req.amountCents} ${req.currency}`,
          );
        }
        const now = Date.now();
        const row: ChargeRow = {
          id: randomUUID(),
          trip_id: req.tripId,
          idempotency_key: key,
          token_last4: req.token.slice(-4),
          amount_cents: req.amountCents,
          currency: req.currency,
          status: 'CAPTURED',
          created_at: now,
          updated_at: now,
        };
        await trx('charges').insert(row);
        await appendEvent(trx, {
          aggregateType: 'charge',
          aggregateId: row.id,
          eventType: 'ChargeCaptured',
          payload: chargeView(row),
        });
        return { status: 201, body: chargeView(row) };
      },
    }),
  );

  app.post('/charges/refund', (request, reply) =>
    handleIdempotent(ctx, request, reply, {
      parse: (body) => {
        const parsed = cancelRequestSchema.safeParse(body);
        if (!parsed.success) throw badRequest('invalid refund request', describeIssues(parsed.error));
        return parsed.data;
      },
      execute: ({ idempotencyKey }, trx, key) =>
        compensateByKey(ctx, trx, idempotencyKey, key, async (): Promise<CancelOutcome> => {
          const row = await trx<ChargeRow>('charges').where({ idempotency_key: idempotencyKey }).first();
          if (!row) return { outcome: 'NOTHING_TO_CANCEL', idempotencyKey };
          if (row.status === 'REFUNDED')
            return { outcome: 'ALREADY_REFUNDED', idempotencyKey, charge: chargeView(row) };
          const updated = { ...row, status: 'REFUNDED' as const, updated_at: Date.now() };
          // Guarded by the status, so two refunds racing with different keys refund once.
          const changed = await trx('charges')
            .where({ id: row.id, status: 'CAPTURED' })
            .update({ status: updated.status, updated_at: updated.updated_at });
          if (changed === 0) {
            const now = (await trx<ChargeRow>('charges').where({ id: row.id }).first()) ?? row;
            return { outcome: 'ALREADY_REFUNDED', idempotencyKey, charge: chargeView(now) };
          }
          await appendEvent(trx, {
            aggregateType: 'charge',
            aggregateId: row.id,
            eventType: 'ChargeRefunded',
            payload: chargeView(updated),
          });
          return { outcome: 'REFUNDED', idempotencyKey, charge: chargeView(updated) };
        }),
    }),
  );

  app.get('/charges', async (request) => {
    const query = z.object({ tripId: tripIdSchema }).safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await ctx.db<ChargeRow>('charges').where({ trip_id: query.data.tripId }).orderBy('created_at');
    return rows.map(chargeView);
  });
}
