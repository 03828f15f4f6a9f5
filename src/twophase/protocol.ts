/**
 * The wire contract between the 2PC coordinator and its participants (the booking services):
 * global transaction ids, the prepare/commit/rollback messages and their answers. Pure.
 */
import { STEPS, type StepName } from '../shared/trip';

/** Prefix of every global transaction id we prepare, so recovery can tell ours from others'. */
export const GID_PREFIX = 'tripsaga:';

/** `tripsaga:<tripId>:<step>`: one prepared transaction per trip and service, named after its key. */
export const gidFor = (tripId: string, step: StepName): string => `${GID_PREFIX}${tripId}:${step}`;

/** The forward idempotency key a gid stands for (`<tripId>:<step>`), or undefined if not ours. */
export function parseGid(gid: string): { tripId: string; step: StepName; key: string } | undefined {
  if (!gid.startsWith(GID_PREFIX) || gid.length > 200) return undefined;
  // Inlined into PREPARE/COMMIT statements (they take no parameters): visible ASCII, no quote.
  if (!/^[\x21-\x26\x28-\x7e]+$/.test(gid)) return undefined;
  const key = gid.slice(GID_PREFIX.length);
  const at = key.lastIndexOf(':');
  const step = key.slice(at + 1) as StepName;
  const tripId = key.slice(0, at);
  if (at <= 0 || !STEPS.includes(step)) return undefined;
  return { tripId, step, key };
}

/** POST /2pc/prepare: do the step's business operation and PREPARE it under `gid`. */
export interface PrepareRequest {
  gid: string;
  /** The same body the saga's forward call sends (tripId + the step's part of the trip). */
  request: Record<string, unknown>;
}

export type PrepareAnswer =
  /** PREPARED: locks held until phase 2; COMMITTED: this gid already committed (a late retry). */
  | { vote: 'YES'; gid: string; state: 'PREPARED' | 'COMMITTED' }
  /** A business refusal (SOLD_OUT, PAYMENT_DECLINED, …) or a lock wait that timed out. */
  | { vote: 'NO'; gid: string; error: { type: string; message: string } };

export interface PhaseTwoRequest {
  gid: string;
}

export type PhaseTwoAnswer =
  | { gid: string; outcome: 'COMMITTED' | 'ALREADY_COMMITTED' }
  | { gid: string; outcome: 'ROLLED_BACK' | 'NOTHING_PREPARED' };

/** GET /2pc/prepared: this participant's in-doubt transactions (recovery reads them). */
export interface PreparedList {
  prepared: Array<{ gid: string; preparedAt: string }>;
}

/** Problem codes of the participant routes. */
export const TWO_PHASE_PROBLEMS = {
  unavailable: 'PREPARED_TRANSACTIONS_UNAVAILABLE',
  notPrepared: 'NOT_PREPARED',
  alreadyCommitted: 'ALREADY_COMMITTED',
  invalidGid: 'INVALID_GID',
} as const;

/** What to tell an operator whose PostgreSQL cannot prepare transactions. */
export const PREPARED_TRANSACTIONS_HELP =
  'two-phase commit needs every booking service on PostgreSQL (DATABASE_URL) with max_prepared_transactions > 0: ' +
  'run ALTER SYSTEM SET max_prepared_transactions = 64 and restart the server (or start postgres with -c max_prepared_transactions=64); see docs/two-phase-commit.md';
