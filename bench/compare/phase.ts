/**
 * One measured phase of `npm run compare`: `trips` trips of one flavour closed loop at one
 * concurrency, with what they cost per trip (HTTP to the services, the flavour's other messages,
 * PostgreSQL transactions) and how long rows stayed locked, all counted around the phase.
 */
import type { Knex } from 'knex';
import type { TripRequest } from '../../src/shared/trip';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { closedLoop, percentile, round, type TripOutcome } from '../bench-support';
import { settledPgTransactions, type DbWatch } from './counters';
import type { FlavorUnderTest } from './flavor';

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2030, 0, 1);

/**
 * Trip number `k` of a flavour: four days of its own (flight on the first, hotel and car from it for two), so no
 * two trips share an inventory row; declined at payment when asked.
 */
export function tripOn(k: number, decline: boolean): TripRequest {
  const day = (offset: number) => new Date(FIRST_DAY + (4 * k + offset) * DAY_MS).toISOString().slice(0, 10);
  return sampleTrip({
    flight: { date: day(0) },
    hotel: { checkIn: day(0), checkOut: day(2) },
    car: { pickUp: day(0), dropOff: day(2) },
    ...(decline ? { payment: { token: 'tok_declined' } } : {}),
  });
}

export interface Watches {
  admin: Knex;
  services: DbWatch;
  tripState: DbWatch;
  observer: DbWatch;
}

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export const summarize = (values: number[]): Summary | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50), 1),
    p99: round(percentile(sorted, 99), 1),
    max: round(sorted[sorted.length - 1] as number, 1),
  };
};

export interface PhaseReport {
  concurrency: number;
  trips: number;
  declined: number;
  sagasPerSec: number;
  p50Ms: number;
  p99Ms: number;
  perTrip: {
    httpToServices: number;
    /** The flavour's other round trips (Temporal RPCs, JetStream messages, client to coordinator). */
    messages: Record<string, number>;
    /** pg_stat_database of the flavour's database, less the driver's own reads. */
    dbTransactions: number;
    /** The same, by who sent them (knex query events); `other` = the rest (the relay, connection set-up). */
    dbTransactionsBy: { services: number; tripState: number; other: number };
  };
  /** Row-lock windows in the services, ms: local transactions, and prepare → COMMIT/ROLLBACK PREPARED. */
  rowLockMs: { local: Summary | null; prepared: Summary | null };
}

export type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Every counter of the flavour, once pg_stat_database has caught up (takes PG_STATS_FLUSH_MS). */
export async function snapshot(flavor: FlavorUnderTest, w: Watches) {
  return {
    pg: await settledPgTransactions(w.admin, flavor.database),
    http: flavor.services.reduce((n, s) => n + s.stats.requests, 0),
    messages: await flavor.network(),
    services: w.services.counts().transactions,
    tripState: w.tripState.counts().transactions,
    observer: w.observer.counts().transactions,
  };
}

export async function runPhase(
  flavor: FlavorUnderTest,
  watches: Watches,
  concurrency: number,
  trips: Array<{ tripId: string; request: TripRequest; expected: string }>,
  before: Snapshot,
): Promise<{ report: PhaseReport; outcomes: TripOutcome[]; after: Snapshot }> {
  watches.services.resetWindows();
  const { results, seconds } = await closedLoop(trips.length, concurrency, async (i) => {
    const trip = trips[i] as (typeof trips)[number];
    return { workflowId: trip.tripId, status: await flavor.book(trip.tripId, trip.request), expected: trip.expected };
  });
  const windows = { local: [...watches.services.windows.local], prepared: [...watches.services.windows.prepared] };
  const after = await snapshot(flavor, watches);
  const n = trips.length;
  const per = (d: number) => round(d / n, 1);
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  const total = after.pg - before.pg - (after.observer - before.observer);
  const services = after.services - before.services;
  const tripState = after.tripState - before.tripState;
  return {
    after,
    outcomes: results.map(({ workflowId, status, expected }) => ({ workflowId, status, expected })),
    report: {
      concurrency,
      trips: n,
      declined: trips.filter((t) => t.expected === 'COMPENSATED').length,
      sagasPerSec: round(n / seconds, 2),
      p50Ms: round(percentile(latencies, 50), 0),
      p99Ms: round(percentile(latencies, 99), 0),
      perTrip: {
        httpToServices: per(after.http - before.http),
        messages: Object.fromEntries(
          Object.entries(after.messages).map(([k, v]) => [k, per(v - (before.messages[k] ?? 0))]),
        ),
        dbTransactions: per(total),
        dbTransactionsBy: {
          services: per(services),
          tripState: per(tripState),
          other: per(total - services - tripState),
        },
      },
      rowLockMs: { local: summarize(windows.local), prepared: summarize(windows.prepared) },
    },
  };
}
