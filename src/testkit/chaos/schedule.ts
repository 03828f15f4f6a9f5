/**
 * The fault schedule of a chaos run: which process is killed (and for how long it stays down),
 * when the services' network is partitioned, all drawn from one seed and printed before the run.
 */
import type { Rng } from '../random';

export type ChaosTarget =
  'worker-1' | 'worker-2' | 'temporal' | 'flight' | 'hotel' | 'car' | 'payment' | 'relay' | 'notifications';

export type FaultEvent =
  | { atMs: number; kind: 'kill'; target: ChaosTarget; downMs: number }
  | { atMs: number; kind: 'partition'; downMs: number };

/** Kills per target for a 300 s run; shorter runs scale down (at least one of each). */
const KILLS_PER_300S: Record<ChaosTarget, number> = {
  'worker-1': 6,
  'worker-2': 6,
  temporal: 3,
  flight: 2,
  hotel: 2,
  car: 2,
  payment: 2,
  relay: 3,
  notifications: 3,
};
const PARTITIONS_PER_300S = 4;

export function faultSchedule(rng: Rng, durationMs: number, options: { partitions: boolean }): FaultEvent[] {
  const scale = durationMs / 300_000;
  const count = (per300: number) => Math.max(1, Math.round(per300 * scale));
  // Faults start after a short warm-up and end before the run's last tenth, so the tail is calm.
  const window = (): number => rng.int(Math.round(durationMs * 0.05), Math.round(durationMs * 0.9));
  const events: FaultEvent[] = [];
  for (const [target, per300] of Object.entries(KILLS_PER_300S) as Array<[ChaosTarget, number]>) {
    const downMax = target === 'temporal' ? 8_000 : 5_000;
    for (let i = 0; i < count(per300); i++)
      events.push({ atMs: window(), kind: 'kill', target, downMs: rng.int(500, downMax) });
  }
  if (options.partitions) {
    for (let i = 0; i < count(PARTITIONS_PER_300S); i++)
      events.push({ atMs: window(), kind: 'partition', downMs: rng.int(2_000, 6_000) });
  }
  return events.sort((a, b) => a.atMs - b.atMs);
}
