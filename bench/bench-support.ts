/** Small helpers shared by the benchmarks: settings from env, latency percentiles, closed-loop runs, the audit. */
import type { Config } from '../src/config';
import { auditTrip, duplicateKeyViolations, invariantViolations } from '../src/testkit/stack';

/** A positive whole number from env, or the fallback; refuses anything else by name. */
export function positiveIntFromEnv(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return Math.floor(v);
}

/** The p-th percentile of an ascending array (nearest rank); 0 for an empty one. */
export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Every tenth trip is declined at payment (and compensated). */
export const declined = (i: number) => i % 10 === 9;

/** How one trip ended, and how it should have. */
export interface TripOutcome {
  workflowId: string;
  status: string;
  expected: string;
}

/**
 * Runs `trips` runs closed loop, `concurrency` lanes at a time (each lane starts a run and waits
 * for it before the next); returns each run's result with its latency and the wall time.
 */
export async function closedLoop<T>(
  trips: number,
  concurrency: number,
  run: (i: number) => Promise<T>,
): Promise<{ results: Array<T & { latencyMs: number }>; seconds: number }> {
  const results: Array<T & { latencyMs: number }> = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < trips; i = next++) {
      const t0 = performance.now();
      const result = await run(i);
      results.push({ ...result, latencyMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { results, seconds: (performance.now() - started) / 1000 };
}

/**
 * Invariants 1-2 of every trip through the services' audit endpoints (and that it ended as
 * expected), 8 trips at a time; returns the violations, each prefixed with the trip id.
 */
export async function auditOutcomes(config: Config, outcomes: TripOutcome[]): Promise<string[]> {
  const violations: string[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < outcomes.length; i = next++) {
      const { workflowId, status, expected } = outcomes[i] as TripOutcome;
      if (status !== expected) violations.push(`${workflowId}: ended ${status}, expected ${expected}`);
      const rows = await auditTrip(config, workflowId);
      for (const v of [...invariantViolations(status, rows), ...duplicateKeyViolations(workflowId, rows)]) {
        violations.push(`${workflowId}: ${v}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return violations;
}
