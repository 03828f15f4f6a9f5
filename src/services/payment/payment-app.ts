/**
 * The payment service: capture a charge by Idempotency-Key, refund by the forward key (with a
 * tombstone when the charge has not arrived yet), and audit reads.
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Migration } from '../../db/migrations';
import { choreographyInboxMigration } from '../../inbox/inbox';
import { idempotencyMigration } from '../../idempotency/store';
import { outboxMigrations } from '../../outbox/outbox-table';
import { describeIssues, paymentSchema } from '../../shared/trip-schema';
import { registerUndoRoute, undoHandler, type UndoRoute } from '../compensate-by-key';
import { createKeyedTable, insertKeyedRow, type KeyedRow } from '../keyed-rows';
import { auditQuerySchema, tripIdSchema } from '../../http/common-schemas';
import { handleIdempotent, type IdempotentHandler, type ServiceContext } from '../../http/idempotent-route';
import { badRequest, paymentDeclined, unknownToken } from '../../http/problem';

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
  choreographyInboxMigration,
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

/** The body of `POST /charges` (and of a 2PC prepare on payment). */
export const chargeRequestSchema = z.object({ tripId: tripIdSchema }).and(paymentSchema);
export type ChargeRequest = z.infer<typeof chargeRequestSchema>;
const announced = { aggregateType: 'charge', payload: chargeView };

/** Validates a charge body; an unknown token is refused before anything is stored. */
export function parseCharge(body: unknown): ChargeRequest {
  const parsed = chargeRequestSchema.safeParse(body);
  if (!parsed.success) throw badRequest('invalid charge request', describeIssues(parsed.error));
  const { token } = parsed.data;
  if (token !== DECLINED_TOKEN && !APPROVED_TOKENS.includes(token)) {
    throw unknownToken(token);
  }
  return parsed.data;
}

/**
 * The business operation of every flavour (saga route, choreography step, 2PC prepare): capture
 * the charge keyed by `key` and its outbox event through `trx`. Throws PAYMENT_DECLINED (402)
 * for the declined token.
 */
export async function captureCharge(
  trx: Knex.Transaction,
  req: ChargeRequest,
  key: string,
  options: { notify?: boolean } = {},
): Promise<ChargeRow> {
  if (req.token === DECLINED_TOKEN) {
    throw paymentDeclined(req.amountCents, req.currency);
  }
  return insertKeyedRow<ChargeRow>(
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
    options,
  );
}

/** `POST /charges`: capture by key (also what a choreography participant runs on its event). */
export function chargeHandler(): IdempotentHandler<ChargeRequest> {
  return {
    parse: (body) => parseCharge(body),
    execute: async (req, trx, key) => {
      const row = await captureCharge(trx, req, key);
      return { status: 201, body: chargeView(row) };
    },
  };
}

const chargeUndo: UndoRoute<ChargeRow['status'], ChargeRow> = {
  path: '/charges/refund',
  table: 'charges',
  status: { active: 'CAPTURED', undone: 'REFUNDED' },
  show: (row) => ({ charge: chargeView(row) }),
  event: { ...announced, eventType: 'ChargeRefunded' },
};

/** `POST /charges/refund`: refund whatever the forward key captured (a tombstone if nothing yet). */
export const refundHandler = (ctx: ServiceContext) => undoHandler(ctx, chargeUndo);

export function registerPaymentRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post('/charges', (request, reply) => handleIdempotent(ctx, request, reply, chargeHandler()));
  registerUndoRoute(app, ctx, chargeUndo);

  app.get('/charges', async (request) => {
    const query = auditQuerySchema.safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await ctx.db<ChargeRow>('charges').where({ trip_id: query.data.tripId }).orderBy('created_at');
    return rows.map(chargeView);
  });
}
