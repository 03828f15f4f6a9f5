/** Small helpers shared by the benchmarks: settings from env and latency percentiles. */

/** A positive whole number from env, or the fallback; refuses anything else by name. */
export function positiveIntFromEnv(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return Math.floor(v);
}

/** The p-th percentile of an ascending array (nearest rank); 0 for an empty one. */
export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
