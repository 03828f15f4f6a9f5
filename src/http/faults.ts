/**
 * Fault injection for chaos runs and demos (DESIGN.md), off unless FAULTS is set:
 * `lost` = commit, then drop the connection without a reply; `error` = 503 before doing
 * anything; `delay` = random latency in ms, e.g. FAULTS="lost=0.2,error=0.1,delay=0-300".
 */
export interface Faults {
  lost: number;
  error: number;
  delayMs: [number, number];
}

export const NO_FAULTS: Faults = { lost: 0, error: 0, delayMs: [0, 0] };

/** Parses FAULTS; throws on anything it does not understand, naming the part. */
export function parseFaults(spec: string | undefined): Faults {
  if (!spec) return NO_FAULTS;
  const faults: Faults = { ...NO_FAULTS, delayMs: [0, 0] };
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value] = part.split('=');
    if (name === 'lost' || name === 'error') {
      const p = Number(value);
      if (!(p >= 0 && p <= 1)) throw new Error(`FAULTS: ${name} must be a probability from 0 to 1, got "${value}"`);
      faults[name] = p;
    } else if (name === 'delay') {
      const m = /^(\d+)(?:-(\d+))?$/.exec(value ?? '');
      if (!m) throw new Error(`FAULTS: delay must be MS or MIN-MAX, got "${value}"`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) throw new Error(`FAULTS: delay range "${value}" is reversed`);
      faults.delayMs = [lo, hi];
    } else {
      throw new Error(`FAULTS: unknown fault "${name}" (known: lost, error, delay)`);
    }
  }
  return faults;
}

export const roll = (p: number, random: () => number = Math.random): boolean => p > 0 && random() < p;

export async function injectedDelay(faults: Faults, random: () => number = Math.random): Promise<void> {
  const [lo, hi] = faults.delayMs;
  if (hi <= 0) return;
  await new Promise((r) => setTimeout(r, lo + Math.floor(random() * (hi - lo + 1))));
}
