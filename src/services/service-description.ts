/**
 * The OpenAPI description of a booking service (flight, hotel, car, payment): its keyed forward
 * route, its compensation and its audit read, with the zod schemas they validate with and the
 * problems they can answer. Answer schemas are zod too, checked at compile time against the views
 * the routes return. (The 2PC participant routes are the coordinator's protocol: not described.)
 */
import { z } from 'zod';
import type { BookingServiceName } from '../config';
import { auditQuerySchema, cancelRequestSchema, type CancelOutcome } from '../http/common-schemas';
import { invalidKey, keyReused, requestInFlight, tombstoned } from '../http/idempotency-problems';
import type { ApiDescription, HeaderDoc, OperationDoc, SameType } from '../http/openapi';
import {
  badRequest,
  forwardInFlight,
  injectedFault,
  paymentDeclined,
  soldOut,
  unknownResource,
  unknownToken,
} from '../http/problem';
import { MAX_IDEMPOTENCY_KEY_LENGTH, VISIBLE_ASCII } from '../shared/trip-ids';
import { CATALOGS, type InventoryCatalog } from './booking/catalog';
import { reservationRequestSchema, type reservationView } from './booking/inventory-app';
import { keyUndone } from './compensate-by-key';
import { chargeRequestSchema, type chargeView } from './payment/payment-app';

const keyed = {
  id: z.string(),
  tripId: z.string(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
};
/** A reservation as the audit read and the booking answer show it. */
export const reservationSchema = z.object({
  ...keyed,
  status: z.enum(['ACTIVE', 'CANCELLED']),
  resourceId: z.string(),
  days: z.array(z.string()),
  quantity: z.number(),
  details: z.unknown(),
});
/** A charge as the audit read and the capture answer show it. */
export const chargeSchema = z.object({
  ...keyed,
  status: z.enum(['CAPTURED', 'REFUNDED']),
  amountCents: z.number(),
  currency: z.string(),
  tokenLast4: z.string(),
});
const reservationMatches: SameType<z.infer<typeof reservationSchema>, ReturnType<typeof reservationView>> = true;
const chargeMatches: SameType<z.infer<typeof chargeSchema>, ReturnType<typeof chargeView>> = true;
void reservationMatches;
void chargeMatches;

const cancelOutcomeSchema = (row: 'reservation' | 'charge') =>
  z.union([
    z.object({ outcome: z.enum(['TOMBSTONED', 'NOTHING_TO_CANCEL']), idempotencyKey: z.string() }),
    z.object({
      outcome: z.enum(['CANCELLED', 'ALREADY_CANCELLED', 'REFUNDED', 'ALREADY_REFUNDED']),
      idempotencyKey: z.string(),
      ...(row === 'reservation' ? { reservation: reservationSchema } : { charge: chargeSchema }),
    }),
  ]);
const outcomeFits: z.infer<ReturnType<typeof cancelOutcomeSchema>> extends CancelOutcome ? true : false = true;
void outcomeFits;

const keyHeader: HeaderDoc = {
  name: 'Idempotency-Key',
  required: true,
  description: `The step's key (\`<workflowId>:<step>\`, 1-${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters): the same key and body replay the first answer.`,
  schema: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).regex(VISIBLE_ASCII),
};
/** What every keyed route can answer besides its own outcome. */
const keyedProblems = [
  invalidKey('not a key'),
  badRequest('invalid request', []),
  requestInFlight(1),
  tombstoned('k'),
  keyReused('k', 'POST', '/'),
  injectedFault(),
];
const replayed = { 'idempotent-replayed': '`true` when this is the stored answer of an earlier request' };

export function bookingServiceDescription(name: BookingServiceName): ApiDescription {
  const payment = name === 'payment';
  const rows = payment ? 'charges' : 'reservations';
  const rowSchema = payment ? chargeSchema : reservationSchema;
  const forward: OperationDoc = payment
    ? {
        method: 'post',
        path: '/charges',
        operationId: 'captureCharge',
        summary: 'Capture a charge, once per Idempotency-Key',
        tag: rows,
        headers: [keyHeader],
        body: chargeRequestSchema,
        responses: { 201: { description: 'captured', schema: chargeSchema, headers: replayed } },
        problems: [...keyedProblems, unknownToken('tok_x'), paymentDeclined(1, 'USD'), keyUndone('k')],
      }
    : {
        method: 'post',
        path: '/reservations',
        operationId: 'reserve',
        summary: `Reserve a ${name}, once per Idempotency-Key`,
        tag: rows,
        headers: [keyHeader],
        body: reservationRequestSchema(CATALOGS[name] as InventoryCatalog<object>),
        responses: { 201: { description: 'reserved', schema: reservationSchema, headers: replayed } },
        problems: [...keyedProblems, unknownResource(name, name), soldOut(name), keyUndone('k')],
      };
  const operations: OperationDoc[] = [
    forward,
    {
      method: 'post',
      path: payment ? '/charges/refund' : '/reservations/cancel',
      operationId: payment ? 'refundCharge' : 'cancelReservation',
      summary: `Undo whatever the forward key created (a tombstone when nothing came yet)`,
      tag: rows,
      headers: [keyHeader],
      body: cancelRequestSchema,
      responses: {
        200: {
          description: 'undone, already undone, or tombstoned',
          schema: cancelOutcomeSchema(payment ? 'charge' : 'reservation'),
          headers: replayed,
        },
      },
      problems: [...keyedProblems, forwardInFlight()],
    },
    {
      method: 'get',
      path: `/${rows}`,
      operationId: payment ? 'listCharges' : 'listReservations',
      summary: `Audit: every ${payment ? 'charge' : 'reservation'} of a trip`,
      tag: rows,
      query: auditQuerySchema,
      responses: { 200: { description: `the trip's ${rows}`, schema: z.array(rowSchema) } },
      problems: [badRequest('tripId query parameter is required', [])],
    },
    {
      method: 'get',
      path: '/healthz',
      operationId: 'getHealth',
      summary: 'Liveness',
      tag: 'health',
      responses: {
        200: {
          description: 'the process answers',
          schema: z.object({ status: z.literal('ok'), service: z.literal(name) }),
        },
      },
      problems: [],
    },
  ];
  return {
    title: `trip-saga ${name} service`,
    version: '1',
    description:
      `The ${name} booking service: keyed by Idempotency-Key, undone by the forward key, audited by trip. ` +
      'Errors are application/problem+json with a stable code. See docs/api.md.',
    operations,
  };
}
