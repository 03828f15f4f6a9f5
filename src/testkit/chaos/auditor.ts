/**
 * The chaos run's auditor: reads the truth from every database (not from the system's own
 * counters or endpoints) once the system is quiet, and lists every broken promise of
 * docs/architecture.md's invariants, the outbox's exactly-once delivery and the API's replays.
 */
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { BOOKING_SERVICES, type ServiceName } from '../../config';
import { TERMINAL_STATUSES } from '../../shared/trip-status';
import type { TripRun } from './workload';

const SOURCES: ServiceName[] = [...BOOKING_SERVICES, 'api'];

/** Opens one service's database read-side, as the services lay it out (file or schema). */
export function openAuditDb(name: ServiceName, where: { dataDir: string; databaseUrl?: string }): Knex {
  if (where.databaseUrl) {
    return knexFactory({ client: 'pg', connection: where.databaseUrl, searchPath: [name], pool: { min: 0, max: 2 } });
  }
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(where.dataDir, `${name}.sqlite`) },
    useNullAsDefault: true,
  });
}

interface Row {
  id: string;
  trip_id: string;
  idempotency_key: string;
  status: string;
}

export interface AuditReport {
  byStatus: Record<string, number>;
  violations: string[];
  events: number;
  emails: number;
  inbox: number;
  maxTimeToTerminalMs: number;
}

export async function audit(
  trips: TripRun[],
  where: { dataDir: string; databaseUrl?: string },
  options: { principal: string },
): Promise<AuditReport> {
  const violations: string[] = [];
  const dbs = new Map<ServiceName, Knex>();
  const open = (n: ServiceName) => {
    let db = dbs.get(n);
    if (!db) dbs.set(n, (db = openAuditDb(n, where)));
    return db;
  };
  try {
    // The trips the system knows: every row of the API's trips table.
    const tripRows = (await open('api')('trips').select('trip_id', 'status', 'principal', 'updated_at')) as Array<{
      trip_id: string;
      status: string;
      principal: string | null;
      updated_at: number;
    }>;
    const known = new Map(tripRows.map((t) => [t.trip_id, t]));
    const byStatus: Record<string, number> = {};
    let maxTimeToTerminalMs = 0;
    for (const trip of trips) {
      const row = known.get(trip.tripId);
      if (!row) {
        // A POST that was never accepted may have started nothing; one that was accepted must exist.
        if (trip.accepted && trip.accepted.status < 300)
          violations.push(`${trip.tripId} (${trip.kind}): accepted but not in the trips table`);
        byStatus.NOT_STARTED = (byStatus.NOT_STARTED ?? 0) + 1;
        continue;
      }
      byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
      if (!(TERMINAL_STATUSES as readonly string[]).includes(row.status))
        violations.push(`${trip.tripId} (${trip.kind}): not terminal (${row.status}) — invariant 5`);
      else maxTimeToTerminalMs = Math.max(maxTimeToTerminalMs, Number(row.updated_at) - trip.sentAtMs);
      if (row.principal !== options.principal)
        violations.push(`${trip.tripId}: owner is ${row.principal}, not ${options.principal}`);
    }

    // Invariants 1–3 over every row of every booking service.
    const rowsBy = new Map<string, Record<string, Row[]>>();
    for (const name of BOOKING_SERVICES) {
      const table = name === 'payment' ? 'charges' : 'reservations';
      const rows = (await open(name)(table).select('id', 'trip_id', 'idempotency_key', 'status')) as Row[];
      const perKey = new Map<string, number>();
      for (const r of rows) {
        perKey.set(r.idempotency_key, (perKey.get(r.idempotency_key) ?? 0) + 1);
        if (!known.has(r.trip_id)) violations.push(`${name} ${r.id}: trip ${r.trip_id} is unknown — invariant 3`);
        const byTrip = rowsBy.get(r.trip_id) ?? {};
        (byTrip[name] ??= []).push(r);
        rowsBy.set(r.trip_id, byTrip);
      }
      for (const [key, n] of perKey) if (n > 1) violations.push(`${name}: key ${key} has ${n} rows — invariant 2`);
    }
    for (const [tripId, row] of known) {
      if (!(TERMINAL_STATUSES as readonly string[]).includes(row.status) || row.status === 'NEEDS_ATTENTION') continue;
      const held = rowsBy.get(tripId) ?? {};
      for (const name of BOOKING_SERVICES) {
        const live = (held[name] ?? []).filter((r) => r.status === (name === 'payment' ? 'CAPTURED' : 'ACTIVE')).length;
        const want = row.status === 'CONFIRMED' ? 1 : 0;
        if (live !== want)
          violations.push(
            `${tripId} ${row.status}: ${name} has ${live} ${name === 'payment' ? 'captured' : 'active'}, expected ${want} — invariant 1`,
          );
      }
    }

    // Invariant 4: every outbox event published and applied exactly once by notifications.
    const outbox = new Map<string, { source: ServiceName; type: string; aggregate: string }>();
    for (const source of SOURCES) {
      const rows = (await open(source)('outbox').select(
        'event_id',
        'event_type',
        'aggregate_id',
        'published_at',
        'parked_at',
      )) as Array<{
        event_id: string;
        event_type: string;
        aggregate_id: string;
        published_at: number | null;
        parked_at: number | null;
      }>;
      for (const r of rows) {
        outbox.set(r.event_id, { source, type: r.event_type, aggregate: r.aggregate_id });
        if (r.parked_at !== null)
          violations.push(`${source} outbox ${r.event_id} (${r.event_type}): parked — invariant 4`);
        else if (r.published_at === null)
          violations.push(`${source} outbox ${r.event_id} (${r.event_type}): never published — invariant 4`);
      }
    }
    const inbox = (await open('notifications')('inbox').select('event_id')) as Array<{ event_id: string }>;
    const applied = new Map<string, number>();
    for (const r of inbox) applied.set(r.event_id, (applied.get(r.event_id) ?? 0) + 1);
    for (const [id, event] of outbox) {
      const n = applied.get(id) ?? 0;
      if (n !== 1) violations.push(`${event.source} event ${id} (${event.type}) applied ${n} times — invariant 4`);
    }
    for (const id of applied.keys())
      if (!outbox.has(id)) violations.push(`notifications applied ${id}, which no outbox holds`);
    const emails = (await open('notifications')('emails').select('event_id', 'trip_id', 'kind')) as Array<{
      event_id: string;
      trip_id: string;
      kind: string;
    }>;
    const emailsPerEvent = new Map<string, number>();
    for (const e of emails) emailsPerEvent.set(e.event_id, (emailsPerEvent.get(e.event_id) ?? 0) + 1);
    for (const [id, n] of emailsPerEvent) if (n > 1) violations.push(`event ${id} sent ${n} emails`);

    // One outcome event per (trip, outcome): a retried end record announces nothing twice.
    const outcomes = new Map<string, number>();
    for (const e of outbox.values())
      if (e.source === 'api')
        outcomes.set(`${e.aggregate} ${e.type}`, (outcomes.get(`${e.aggregate} ${e.type}`) ?? 0) + 1);
    for (const [k, n] of outcomes) if (n > 1) violations.push(`${k} announced ${n} times`);
    const OUTCOME_EVENT: Record<string, string> = {
      CONFIRMED: 'TripConfirmed',
      COMPENSATED: 'TripCompensated',
      CANCELLED: 'TripCancelled',
    };
    for (const [tripId, row] of known) {
      const type = OUTCOME_EVENT[row.status];
      if (type && !outcomes.has(`${tripId} ${type}`))
        violations.push(`${tripId} ${row.status}: no ${type} event announced`);
    }

    return {
      byStatus,
      violations,
      events: outbox.size,
      emails: emails.length,
      inbox: inbox.length,
      maxTimeToTerminalMs,
    };
  } finally {
    await Promise.allSettled([...dbs.values()].map((db) => db.destroy()));
  }
}

/** The API answers a replay of every accepted POST byte for byte as it answered first. */
export function replayViolations(
  trip: TripRun,
  replay: { status: number; body: string; replayed: boolean } | undefined,
): string[] {
  if (!trip.accepted) return [];
  if (!replay) return [`${trip.tripId}: the replay of key ${trip.key} got no answer`];
  const problems: string[] = [];
  if (replay.status !== trip.accepted.status || replay.body !== trip.accepted.body)
    problems.push(
      `${trip.tripId}: replay of key ${trip.key} answered ${replay.status} ${replay.body.slice(0, 80)} — first ${trip.accepted.status} ${trip.accepted.body.slice(0, 80)}`,
    );
  else if (!replay.replayed && trip.accepted.status < 300)
    problems.push(`${trip.tripId}: replay of key ${trip.key} not marked Idempotent-Replayed`);
  for (const dup of trip.duplicates) {
    if (dup.status >= 300) continue;
    let id: string | undefined;
    try {
      id = (JSON.parse(dup.body) as { tripId?: string }).tripId;
    } catch {
      id = undefined;
    }
    if (id !== trip.tripId) problems.push(`${trip.tripId}: a duplicate start answered trip ${id}`);
  }
  return problems;
}
