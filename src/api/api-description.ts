/**
 * The trip API's OpenAPI description: each route with the zod schemas it validates with and the
 * problems it can answer (from problems.ts and the shared Idempotency-Key problems). The answer
 * schemas are zod too, checked at compile time against the types the routes return.
 */
import { z } from 'zod';
import { flavorSchema } from '../flavors';
import { invalidKey, keyReused, missingKey, requestInFlight } from '../http/idempotency-problems';
import type { ApiDescription, HeaderDoc, OperationDoc, SameType } from '../http/openapi';
import { PayloadDecryptionError } from '../temporal/payload-codec';
import { STEPS, type TripView } from '../shared/trip';
import { MAX_IDEMPOTENCY_KEY_LENGTH, VISIBLE_ASCII } from '../shared/trip-ids';
import { tripRequestSchema } from '../shared/trip-schema';
import { TRIP_STATUSES } from '../shared/trip-status';
import { codecBodySchema, undecryptable } from './codec-routes';
import {
  cancelNotAccepted,
  cancelNotSupported,
  flavorUnavailable,
  notReady,
  tripAlreadyEnded,
  tripIdTaken,
  tripNotFound,
  unauthorized,
  validationFailed,
} from './problems';
import { listQuerySchema } from './trip-routes';

const stepViewSchema = z.object({
  status: z.enum(['PENDING', 'RUNNING', 'DONE', 'FAILED', 'COMPENSATING', 'COMPENSATED', 'COMPENSATION_FAILED']),
  idempotencyKey: z.string(),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
});
/** A trip as every reader gets it (`TripView`). */
export const tripViewSchema = z.object({
  tripId: z.string(),
  workflowId: z.string(),
  status: z.enum(TRIP_STATUSES),
  steps: z.object({ flight: stepViewSchema, hotel: stepViewSchema, car: stepViewSchema, payment: stepViewSchema }),
  reason: z.object({ step: z.enum(STEPS).optional(), type: z.string(), message: z.string() }).optional(),
});
const tripViewMatches: SameType<z.infer<typeof tripViewSchema>, TripView> = true;
void tripViewMatches;

const tripResourceSchema = tripViewSchema.extend({ links: z.object({ self: z.string(), cancel: z.string() }) });
const tripListSchema = z.object({
  trips: z.array(tripResourceSchema),
  links: z.object({ next: z.string().optional() }),
});

/** The documented form of a key: a bare token (the sf-string form `"…"` is accepted too). */
const keyHeader = (required: boolean): HeaderDoc => ({
  name: 'Idempotency-Key',
  required,
  description:
    `1-${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (or the same as an sf-string "…"), scoped to the caller. ` +
    'The same key and request replay the first answer (Idempotent-Replayed: true); another request with it is a 422.',
  schema: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH).regex(VISIBLE_ASCII),
});
const preferHeader = (maxWaitSeconds: number, what: string): HeaderDoc => ({
  name: 'Prefer',
  required: false,
  description: `RFC 7240 \`wait=N\`: wait up to N seconds (at most ${maxWaitSeconds}) for ${what}.`,
  schema: z.string().regex(/^wait=[0-9]{1,6}$/),
});
const keyProblems = [invalidKey('not a key'), requestInFlight(1), keyReused('k', 'POST', '/trips')];
const replayHeaders = { 'idempotent-replayed': '`true` when this is the stored answer of an earlier request' };

export interface ApiDescriptionOptions {
  /** The longest `Prefer: wait` honoured. */
  maxWaitSeconds: number;
  /** The longest path parameter the router takes (Fastify's `maxParamLength`). */
  maxParamLength: number;
  /** Whether the remote codec routes are served. */
  codec: boolean;
}

export function apiDescription(options: ApiDescriptionOptions): ApiDescription {
  const tripIdParam = z.object({ tripId: z.string().min(1).max(options.maxParamLength).regex(VISIBLE_ASCII) });
  const byTripId = { tripId: '$response.body#/tripId' };
  const trip = (description: string, headers: Record<string, string> = {}) => ({
    description,
    schema: tripResourceSchema,
    headers: { ...replayHeaders, ...headers },
    links: {
      getTrip: { operationId: 'getTrip', parameters: byTripId },
      cancelTrip: { operationId: 'cancelTrip', parameters: byTripId },
    },
  });
  const started = { location: 'the trip', 'preference-applied': 'the wait honoured, when one was asked for' };
  const operations: OperationDoc[] = [
    {
      method: 'post',
      path: '/trips',
      operationId: 'bookTrip',
      summary: 'Book a trip: start its saga once per Idempotency-Key',
      tag: 'trips',
      bearer: true,
      headers: [keyHeader(true), preferHeader(options.maxWaitSeconds, 'the trip to end')],
      body: tripRequestSchema.extend({ flavor: flavorSchema.optional() }),
      responses: {
        201: trip('the trip ended within the wait (or had ended: a key whose record was purged)', started),
        202: trip('the trip is durably started and still running', started),
      },
      problems: [
        missingKey(),
        validationFailed([]),
        ...keyProblems,
        flavorUnavailable('2pc', 'not configured'),
        tripIdTaken('trip-x', '2pc'),
      ],
    },
    {
      method: 'get',
      path: '/trips',
      operationId: 'listTrips',
      summary: "The caller's trips, newest first, a page at a time (follow links.next)",
      tag: 'trips',
      bearer: true,
      query: listQuerySchema,
      responses: { 200: { description: 'a page of trips', schema: tripListSchema } },
      problems: [validationFailed([])],
    },
    {
      method: 'get',
      path: '/trips/{tripId}',
      operationId: 'getTrip',
      summary: 'A trip: its status and the state of each step',
      tag: 'trips',
      bearer: true,
      pathParams: tripIdParam,
      responses: { 200: { description: 'the trip', schema: tripResourceSchema } },
      problems: [tripNotFound('trip-x')],
    },
    {
      method: 'post',
      path: '/trips/{tripId}/cancel',
      operationId: 'cancelTrip',
      summary: 'Cancel a trip still booking, or undo a confirmed one (refund included)',
      tag: 'trips',
      bearer: true,
      pathParams: tripIdParam,
      headers: [keyHeader(false), preferHeader(options.maxWaitSeconds, 'the cancellation to be accepted')],
      responses: { 200: trip('the trip is cancelled'), 202: trip('the trip is being undone') },
      problems: [
        tripNotFound('trip-x'),
        ...keyProblems,
        tripAlreadyEnded('trip-x', 'COMPENSATED'),
        cancelNotSupported('trip-x', '2pc'),
        cancelNotAccepted('trip-x'),
      ],
    },
    {
      method: 'get',
      path: '/healthz',
      operationId: 'getHealth',
      summary: 'Liveness',
      tag: 'health',
      responses: { 200: { description: 'the process answers', schema: z.object({ status: z.literal('ok') }) } },
      problems: [],
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'getReadiness',
      summary: 'Readiness: the database and Temporal answer',
      tag: 'health',
      responses: {
        200: {
          description: 'ready',
          schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.enum(['ok', 'unavailable'])) }),
        },
      },
      problems: [notReady({ database: 'unavailable' })],
    },
  ];
  if (options.codec) {
    for (const operation of ['encode', 'decode'] as const) {
      operations.push({
        method: 'post',
        path: `/codec/${operation}`,
        operationId: `codec${operation === 'encode' ? 'Encode' : 'Decode'}`,
        summary: `Temporal's remote codec: ${operation} payloads (the Web UI calls it)`,
        tag: 'codec',
        bearer: true,
        body: codecBodySchema,
        responses: { 200: { description: `the ${operation}d payloads`, schema: codecBodySchema } },
        problems: [
          validationFailed([]),
          undecryptable(new PayloadDecryptionError('k1', 'unknown key id', [])),
          undecryptable(new PayloadDecryptionError('k1', 'malformed', [])),
        ],
      });
    }
  }
  return {
    title: 'trip-saga trip API',
    version: '1',
    description:
      'Book, inspect and cancel trips (flight + hotel + car + payment as one saga). State-changing routes honour ' +
      'Idempotency-Key; errors are application/problem+json with a stable code. See docs/api.md.',
    operations,
    unauthorized: unauthorized('missing Authorization: Bearer <token>'),
  };
}
