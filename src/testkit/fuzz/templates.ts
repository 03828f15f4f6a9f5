/**
 * The well-formed requests the fuzzer starts from, one per route of every HTTP surface (the trip
 * API, the four booking services, the notifications webhook and audit): each case is one of
 * these with mutations applied (src/testkit/fuzz/mutations.ts).
 */
import { WEBHOOK_PATH } from '../../outbox/webhook-signature';
import { sampleTrip } from '../sample-trip';
import type { Rng } from '../random';

export const SURFACES = ['api', 'flight', 'hotel', 'car', 'payment', 'notifications'] as const;
export type SurfaceName = (typeof SURFACES)[number];

/** What the fuzzer knows of the running stack: a token, and trips that exist. */
export interface FuzzContext {
  apiToken: string;
  /** Trips of the fuzzer's principal (API ids = workflow ids = the services' tripId). */
  tripIds: string[];
}

/** A request before it is written to the socket; mutations edit it. */
export interface Draft {
  surface: SurfaceName;
  route: string;
  method: string;
  path: string;
  query: string;
  headers: Array<[string, string]>;
  /** The JSON value of the body; serialized after the value mutations. */
  value?: unknown;
  /** The body bytes once serialized (text mutations edit this). */
  body?: string | Buffer;
  /** Sign the final body with the webhook secret (notifications). */
  sign: boolean;
}

type Template = (rng: Rng, ctx: FuzzContext) => Omit<Draft, 'sign' | 'body'> & { sign?: boolean };

const key = (rng: Rng): [string, string] => ['Idempotency-Key', `fuzz-${rng.string(16)}`];
const json: [string, string] = ['Content-Type', 'application/json'];
const tripOf = (rng: Rng, ctx: FuzzContext) => rng.pick(ctx.tripIds);

const api =
  (
    route: string,
    method: string,
    path: (rng: Rng, ctx: FuzzContext) => string,
    body?: (rng: Rng) => unknown,
  ): Template =>
  (rng, ctx) => ({
    surface: 'api',
    route,
    method,
    path: path(rng, ctx),
    query: '',
    headers: [
      ['Authorization', `Bearer ${ctx.apiToken}`],
      ...(method === 'POST' ? [json, key(rng)] : []),
      ...(rng.chance(0.3) ? [['Prefer', 'wait=1'] as [string, string]] : []),
    ],
    value: body?.(rng),
  });

const inventory = (surface: 'flight' | 'hotel' | 'car', tripId: string) =>
  surface === 'flight'
    ? { tripId, flightNumber: 'UA100', date: '2027-03-01', seats: 1 }
    : surface === 'hotel'
      ? { tripId, hotelId: 'H-NYC-1', checkIn: '2027-03-01', checkOut: '2027-03-03', rooms: 1 }
      : { tripId, location: 'JFK', pickUp: '2027-03-01', dropOff: '2027-03-03' };

const service =
  (
    surface: SurfaceName,
    route: string,
    method: string,
    path: string,
    body?: (rng: Rng, ctx: FuzzContext) => unknown,
  ): Template =>
  (rng, ctx) => ({
    surface,
    route,
    method,
    path,
    query: method === 'GET' ? `tripId=${encodeURIComponent(tripOf(rng, ctx))}` : '',
    headers: method === 'POST' ? [json, key(rng)] : [],
    value: body?.(rng, ctx),
  });

const cancelBody = (rng: Rng, ctx: FuzzContext) => {
  const tripId = tripOf(rng, ctx);
  return { tripId, idempotencyKey: `${tripId}:${rng.pick(['flight', 'hotel', 'car', 'payment', 'nothing'])}` };
};

export const TEMPLATES: Template[] = [
  api(
    'POST /trips',
    'POST',
    () => '/trips',
    () => sampleTrip(),
  ),
  api('GET /trips', 'GET', () => '/trips'),
  api('GET /trips/:tripId', 'GET', (rng, ctx) => `/trips/${tripOf(rng, ctx)}`),
  api('POST /trips/:tripId/cancel', 'POST', (rng, ctx) => `/trips/${tripOf(rng, ctx)}/cancel`),
  api('GET /readyz', 'GET', () => '/readyz'),
  ...(['flight', 'hotel', 'car'] as const).flatMap((s) => [
    service(s, `${s} POST /reservations`, 'POST', '/reservations', (rng, ctx) => inventory(s, tripOf(rng, ctx))),
    service(s, `${s} POST /reservations/cancel`, 'POST', '/reservations/cancel', cancelBody),
    service(s, `${s} GET /reservations`, 'GET', '/reservations'),
  ]),
  service('payment', 'payment POST /charges', 'POST', '/charges', (rng, ctx) => ({
    tripId: tripOf(rng, ctx),
    token: 'tok_visa',
    amountCents: 1000,
    currency: 'USD',
  })),
  service('payment', 'payment POST /charges/refund', 'POST', '/charges/refund', cancelBody),
  service('payment', 'payment GET /charges', 'GET', '/charges'),
  (rng, ctx) => ({
    surface: 'notifications',
    route: `notifications POST ${WEBHOOK_PATH}`,
    method: 'POST',
    path: WEBHOOK_PATH,
    query: '',
    headers: [json],
    sign: rng.chance(0.6),
    value: {
      id: [8, 4, 4, 4, 12].map((n) => rng.string(n, '0123456789abcdef')).join('-'),
      source: 'flight',
      aggregateType: 'reservation',
      aggregateId: rng.string(8),
      type: 'ReservationCreated',
      payload: { tripId: tripOf(rng, ctx) },
      createdAt: 1_800_000_000_000,
    },
  }),
  service('notifications', 'notifications GET /emails', 'GET', '/emails'),
];
