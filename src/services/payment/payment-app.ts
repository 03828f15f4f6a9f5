/**
 * The payment service: capture a charge by Idempotency-Key, refund by the forward key (with a
 * tombstone when the charge has not arrived yet), and audit reads.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Migration } from '../../db/migrations';
import { idempotencyMigration } from '../../idempotency/store';
import { outboxMigrations } from '../../outbox/outbox-table';
import { describeIssues, paymentSchema } from '../../shared/trip-schema';
import { registerUndoRoute } from '../compensate-by-key';
import { createKeyedTable, insertKeyedRow, type KeyedRow } from '../keyed-rows';
import { tripIdSchema } from '../../http/common-schemas';
import { handleIdempotent, type ServiceContext } from '../../http/idempotent-route';
import { badRequest, HttpProblem } from '../../http/problem';

/** Test tokens: these succeed; `tok_declined` is always declined; anything else is unknown. */
export const APPROVED_TOKENS = ['tok_visa', 'tok_mastercard', 'tok_amex'];
export const DECLINED_TOKEN = 'tok_declined';

export interface ChargeRow extends KeyedRow<'CAPTURED' | 'REFUNDED'> {
  token_last4: string;
  amount_cents: number;
  currency: string;
}

export const paymentMigrations: Migration[] = [
  idempotencyMigration,
  {
    name: '0002_charges',
    async up(db) {
      await createKeyedTable(db, 'charges', (t) => {
        t.string('token_last4', 4).notNullable();
        t.bigInteger('amount_cents').notNullable();
        t.string('currency', 3).notNullable();
      });
    },
  },
  ...outboxMigrations,
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
const announced = { aggregateType: 'charge', payload: chargeView };

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
        const row = await insertKeyedRow<ChargeRow>(
          trx,
          'charges',
          {
            trip_id: req.tripId,
            idempotency_key: key,
            token_last4: req.token.slice(-4),
            amount_cents: req.amountCents,
            currency: req.currency,
            status: 'CAPTURED',
          },
          { ...announced, eventType: 'ChargeCaptured' },
        );
        return { status: 201, body: chargeView(row) };
      },
    }),
  );

  registerUndoRoute<ChargeRow['status'], ChargeRow>(app, ctx, {
    path: '/charges/refund',
    table: 'charges',
    status: { active: 'CAPTURED', undone: 'REFUNDED' },
    show: (row) => ({ charge: chargeView(row) }),
    event: { ...announced, eventType: 'ChargeRefunded' },
  });

  app.get('/charges', async (request) => {
    const query = z.object({ tripId: tripIdSchema }).safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await ctx.db<ChargeRow>('charges').where({ trip_id: query.data.tripId }).orderBy('created_at');
    return rows.map(chargeView);
  });
}
