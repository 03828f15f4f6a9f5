/**
 * The SIGKILL scenario of `npm run compare`, the same for every flavour: start a trip, kill the
 * victim mid-trip, look at what stays locked and try another booking of the same flight and day
 * while it is down, start the victim again and time the trip to its end.
 */
import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { STEPS, type TripRequest } from '../../src/shared/trip';
import { auditTrip, duplicateKeyViolations, invariantViolations } from '../../src/testkit/stack';
import { round } from '../bench-support';
import type { KillTarget } from './flavor';

/** The business tables whose rows a trip writes, per service schema. */
const BUSINESS_TABLES: Array<[string, string]> = [
  ['flight', 'allocations'],
  ['flight', 'reservations'],
  ['hotel', 'allocations'],
  ['hotel', 'reservations'],
  ['car', 'allocations'],
  ['car', 'reservations'],
  ['payment', 'charges'],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Visible rows of the business tables that another transaction holds locked: the rows a
 * `FOR UPDATE SKIP LOCKED` scan skips (rows inserted by a transaction still open are invisible to
 * it, so not counted). Takes no lock it keeps: the probe's transaction ends at once.
 */
export async function lockedRows(db: Knex): Promise<number> {
  return db.transaction(async (trx) => {
    let locked = 0;
    for (const [schema, table] of BUSINESS_TABLES) {
      const all = await trx.withSchema(schema).from(table).count({ n: '*' });
      const free = await trx.raw<{ rows: Array<{ n: string }> }>(
        'SELECT count(*) AS n FROM (SELECT 1 FROM ??.?? FOR UPDATE SKIP LOCKED) s',
        [schema, table],
      );
      locked += Number((all[0] as { n: string | number }).n) - Number(free.rows[0]?.n ?? 0);
    }
    return locked;
  });
}

async function count(db: Knex, sql: string): Promise<number> {
  const r = await db.raw<{ rows: Array<{ n: string }> }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

/** Books flight, hotel and car of `request` for another trip, so their allocation rows exist (committed). */
async function bookSameInventory(target: KillTarget, request: TripRequest): Promise<void> {
  const prior = `trip-prior-${randomUUID()}`;
  for (const step of ['flight', 'hotel', 'car'] as const) {
    const res = await fetch(`${target.config.services[step].url}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${prior}:${step}` },
      body: JSON.stringify({ tripId: prior, ...request[step] }),
    });
    if (res.status !== 201) throw new Error(`booking the ${step} beforehand: HTTP ${res.status} ${await res.text()}`);
  }
}

/** The trip's booked steps as the services that still answer show them (the victim may be one of them). */
async function reachableSteps(target: KillTarget, tripId: string) {
  const visible: string[] = [];
  const unreachable: string[] = [];
  for (const step of STEPS) {
    const url = `${target.config.services[step].url}/${step === 'payment' ? 'charges' : 'reservations'}`;
    try {
      const rows = (await (await fetch(`${url}?tripId=${encodeURIComponent(tripId)}`)).json()) as Array<{
        status: string;
      }>;
      if (rows.some((r) => r.status === 'ACTIVE' || r.status === 'CAPTURED')) visible.push(step);
    } catch {
      unreachable.push(step);
    }
  }
  return { visible, unreachable };
}

export interface KillReport {
  victim: string;
  tripId: string;
  atKill: { status: string | null; visible: string[]; unreachable: string[] };
  whileDown: { preparedTransactions: number; lockedRows: number; lockWaits: number };
  conflictingBooking: {
    target: string;
    blocked: boolean;
    timeoutMs: number;
    answeredAfterMs: number | null;
    httpStatus: number | null;
  };
  restart: { readyMs: number; finishedAfterRestartMs: number; finishedAfterReadyMs: number };
  outcome: string;
  expected: string;
  violations: string[];
  notes: Record<string, unknown>;
}

export async function runKillScenario(
  target: KillTarget,
  tripId: string,
  request: TripRequest,
  conflictTimeoutMs: number,
): Promise<KillReport> {
  const db = knexFactory({ client: 'pg', connection: target.databaseUrl, pool: { min: 0, max: 2 } });
  const flightUrl = target.config.services.flight.url;
  try {
    // An earlier booking of the same flight, hotel and car: the trip then locks rows that exist,
    // as on any popular flight (rows a transaction inserts are invisible to the lock probe).
    await bookSameInventory(target, request);
    await target.start(tripId, request);
    if (target.when === 'flight-visible') {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const rows = (await (
          await fetch(`${flightUrl}/reservations?tripId=${encodeURIComponent(tripId)}`)
        ).json()) as unknown[];
        if (rows.length > 0) break;
        if (Date.now() > deadline) throw new Error(`${tripId}: the flight was never booked`);
        await sleep(5);
      }
    }
    await target.kill();
    const atKill = { status: (await target.status(tripId)) ?? null, ...(await reachableSteps(target, tripId)) };

    // Another booking of the same flight and day, through the saga's own route.
    const other = `trip-conflict-${randomUUID()}`;
    const sent = performance.now();
    const booking = fetch(`${flightUrl}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${other}:flight` },
      body: JSON.stringify({ tripId: other, ...request.flight }),
      signal: AbortSignal.timeout(180_000),
    }).then(
      (res) => ({ status: res.status as number | null, at: performance.now() }),
      () => ({ status: null, at: performance.now() }),
    );
    const early = await Promise.race([booking, sleep(conflictTimeoutMs).then(() => undefined)]);
    const whileDown = {
      preparedTransactions: await count(
        db,
        'SELECT count(*) AS n FROM pg_prepared_xacts WHERE database = current_database()',
      ),
      lockedRows: await lockedRows(db),
      lockWaits: await count(
        db,
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.datname = current_database() WHERE NOT l.granted AND (l.database = d.oid OR l.locktype = 'transactionid')",
      ),
    };

    const restartAt = performance.now();
    await target.restart();
    const readyAt = performance.now();
    const outcome = await target.waitForEnd(tripId);
    const endAt = performance.now();
    const answered = early ?? (await booking);
    const rows = await auditTrip(target.config, tripId);
    const violations = [
      ...(outcome === target.expected ? [] : [`ended ${outcome}, expected ${target.expected}`]),
      ...invariantViolations(outcome, rows),
      ...duplicateKeyViolations(tripId, rows),
    ].map((v) => `${tripId}: ${v}`);
    return {
      victim: target.victim,
      tripId,
      atKill,
      whileDown,
      conflictingBooking: {
        target: `flight ${request.flight.flightNumber} on ${request.flight.date}`,
        blocked: early === undefined,
        timeoutMs: conflictTimeoutMs,
        answeredAfterMs: answered.status === null ? null : round(answered.at - sent, 0),
        httpStatus: answered.status,
      },
      restart: {
        readyMs: round(readyAt - restartAt, 0),
        finishedAfterRestartMs: round(endAt - restartAt, 0),
        finishedAfterReadyMs: round(endAt - readyAt, 0),
      },
      outcome,
      expected: target.expected,
      violations,
      notes: target.notes,
    };
  } finally {
    await db.destroy();
  }
}
