/**
 * The chaos workload: trips of every kind sent to the trip API as a client would, each POST
 * retried with the same Idempotency-Key until the API answers (a crash or an outage is a 5xx or
 * a refused connection, never a reason to make a second trip), user cancels mid-saga and after
 * confirmation, and duplicate starts of one key sent at once.
 */
import { tripIdFor } from '../../trips/trip-workflows';
import type { TripRequest } from '../../shared/trip';
import { sampleTrip } from '../sample-trip';
import type { Rng } from '../random';

export const TRIP_KINDS = [
  'happy',
  'flight-sold-out',
  'hotel-full',
  'car-unavailable',
  'payment-declined',
  'cancel-mid-saga',
  'cancel-after-confirm',
  'duplicate-start',
] as const;
export type TripKind = (typeof TRIP_KINDS)[number];

const WEIGHTS: Record<TripKind, number> = {
  happy: 40,
  'flight-sold-out': 5,
  'hotel-full': 5,
  'car-unavailable': 5,
  'payment-declined': 10,
  'cancel-mid-saga': 15,
  'cancel-after-confirm': 10,
  'duplicate-start': 10,
};

export interface ApiAnswer {
  status: number;
  body: string;
  replayed: boolean;
}

export interface TripRun {
  index: number;
  kind: TripKind;
  key: string;
  tripId: string;
  request: TripRequest;
  sentAtMs: number;
  /** The first answer that settled the POST (2xx, or a 4xx that is final). */
  accepted?: ApiAnswer;
  /** Answers to the extra POSTs of a duplicate start. */
  duplicates: ApiAnswer[];
  cancel?: ApiAnswer;
  /** Retries the client made (refused connections, 5xx, 409 in flight). */
  retries: number;
  /** Answers marked `Idempotent-Replayed: true`. */
  replays: number;
  errors: string[];
}

function pickKind(rng: Rng, kinds: readonly TripKind[]): TripKind {
  const total = kinds.reduce((a, k) => a + WEIGHTS[k], 0);
  let roll = rng.next() * total;
  for (const kind of kinds) {
    roll -= WEIGHTS[kind];
    if (roll < 0) return kind;
  }
  return kinds[0] ?? 'happy';
}

function requestFor(kind: TripKind, rng: Rng, index: number): TripRequest {
  // Spread dates over a year so the run does not drain one day's inventory.
  const day = new Date(Date.UTC(2027, 0, 1) + rng.int(0, 364) * 86_400_000).toISOString().slice(0, 10);
  const next = new Date(Date.parse(day) + 2 * 86_400_000).toISOString().slice(0, 10);
  const base = {
    customerId: `chaos-${index}`,
    flight: { date: day, flightNumber: rng.pick(['UA100', 'UA200', 'DL300']) },
    hotel: { checkIn: day, checkOut: next, hotelId: rng.pick(['H-NYC-1', 'H-SFO-1']) },
    car: { pickUp: day, dropOff: next, location: rng.pick(['JFK', 'SFO']) },
  };
  switch (kind) {
    case 'flight-sold-out':
      return sampleTrip({ ...base, flight: { ...base.flight, flightNumber: 'SOLDOUT1' } });
    case 'hotel-full':
      return sampleTrip({ ...base, hotel: { ...base.hotel, hotelId: 'H-FULL' } });
    case 'car-unavailable':
      return sampleTrip({ ...base, car: { ...base.car, location: 'NOWHERE' } });
    case 'payment-declined':
      return sampleTrip({ ...base, payment: { token: 'tok_declined' } });
    default:
      return sampleTrip(base);
  }
}

export function planTrips(
  rng: Rng,
  count: number,
  runId: string,
  principal: string,
  kinds: readonly TripKind[] = TRIP_KINDS,
): TripRun[] {
  return Array.from({ length: count }, (_, index) => {
    const kind = pickKind(rng, kinds);
    const key = `chaos-${runId}-${index}`;
    return {
      index,
      kind,
      key,
      tripId: tripIdFor(principal, key),
      request: requestFor(kind, rng, index),
      sentAtMs: 0,
      duplicates: [],
      retries: 0,
      replays: 0,
      errors: [],
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client of the trip API that retries what may be retried, with the same key, until a deadline. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly deadlineMs: () => number,
  ) {}

  pastDeadline(): boolean {
    return Date.now() >= this.deadlineMs();
  }

  async send(
    trip: TripRun,
    path: string,
    key: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer | undefined> {
    let backoff = 200;
    while (Date.now() < this.deadlineMs()) {
      try {
        const res = await fetch(this.baseUrl + path, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json',
            'idempotency-key': key,
            ...headers,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(40_000),
        });
        const text = await res.text();
        const answer = { status: res.status, body: text, replayed: res.headers.get('idempotent-replayed') === 'true' };
        if (answer.replayed) trip.replays++;
        // 409 in flight (another request holds the key), 429 and 5xx are retried with the same key.
        const retry =
          res.status >= 500 || res.status === 429 || (res.status === 409 && text.includes('REQUEST_IN_FLIGHT'));
        if (!retry) return answer;
      } catch (err) {
        if (trip.errors.length < 3) trip.errors.push(String((err as Error).cause ?? err));
      }
      trip.retries++;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2_000);
    }
    return undefined;
  }

  async get(path: string): Promise<{ status: number; json: unknown } | undefined> {
    try {
      const res = await fetch(this.baseUrl + path, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, json: await res.json() };
    } catch {
      return undefined;
    }
  }
}

const TERMINAL = ['CONFIRMED', 'COMPENSATED', 'CANCELLED', 'NEEDS_ATTENTION'];

/** Runs one trip's script against the API. */
export async function runTrip(api: ApiClient, trip: TripRun, rng: Rng): Promise<void> {
  if (api.pastDeadline()) return;
  trip.sentAtMs = Date.now();
  const post = () => api.send(trip, '/trips', trip.key, trip.request);
  switch (trip.kind) {
    case 'duplicate-start': {
      const [first, second] = await Promise.all([post(), post()]);
      trip.accepted = first;
      if (second) trip.duplicates.push(second);
      await sleep(rng.int(50, 500));
      const third = await post();
      if (third) trip.duplicates.push(third);
      return;
    }
    case 'cancel-mid-saga': {
      trip.accepted = await post();
      await sleep(rng.int(0, 400));
      trip.cancel = await api.send(trip, `/trips/${trip.tripId}/cancel`, `${trip.key}-cancel`, {});
      return;
    }
    case 'cancel-after-confirm': {
      trip.accepted = await api.send(trip, '/trips', trip.key, trip.request, { prefer: 'wait=20' });
      for (let i = 0; i < 120; i++) {
        const now = await api.get(`/trips/${trip.tripId}`);
        const status = (now?.json as { status?: string } | undefined)?.status;
        if (status === 'CONFIRMED') {
          trip.cancel = await api.send(trip, `/trips/${trip.tripId}/cancel`, `${trip.key}-cancel`, {});
          return;
        }
        if (status && TERMINAL.includes(status)) return;
        await sleep(500);
      }
      return;
    }
    default:
      trip.accepted = await post();
  }
}
