/**
 * Runs N seeded fuzz cases one at a time against a running stack and checks each answer
 * (src/testkit/fuzz/judge.ts). Requests go one by one so that a change in a database can be
 * pinned on the request before it: after a refused request the target's database must be
 * unchanged; after an accepted write the stack is drained (its sagas finish) and re-read.
 */
import { sendRaw, type RawResponse } from '../raw-http';
import { generateCase, type FuzzCase } from './cases';
import { contractViolation, isRefusal } from './judge';
import { seededRng } from '../random';
import { SURFACES, type FuzzContext, type SurfaceName } from './templates';

export interface FuzzSurface {
  port: number;
  /** A snapshot of the surface's database: row counts and sums that any write changes. */
  digest(): Promise<string>;
}

export interface FuzzTarget {
  surfaces: Record<SurfaceName, FuzzSurface>;
  context: FuzzContext;
  webhookSecret: string;
  /** Waits until nothing runs in the background (sagas started by an accepted request). */
  drain(): Promise<void>;
  /** Writes nobody asked for, checked at the end (e.g. workflows without a trip record). */
  orphans(): Promise<string[]>;
}

export interface Violation {
  index: number;
  route: string;
  mutations: string[];
  method: string;
  path: string;
  status?: number;
  reason: string;
}

export interface FuzzSummary {
  seed: number;
  requests: number;
  seconds: number;
  byStatus: Record<string, number>;
  bySurface: Record<string, number>;
  byMutation: Record<string, number>;
  accepted: number;
  refused: number;
  violations: number;
  examples: Violation[];
}

const bump = (m: Record<string, number>, k: string | number) => (m[k] = (m[k] ?? 0) + 1);

export async function runFuzz(target: FuzzTarget, options: { seed: number; requests: number }): Promise<FuzzSummary> {
  const rng = seededRng(options.seed);
  const started = Date.now();
  const summary: FuzzSummary = {
    seed: options.seed,
    requests: options.requests,
    seconds: 0,
    byStatus: {},
    bySurface: {},
    byMutation: {},
    accepted: 0,
    refused: 0,
    violations: 0,
    examples: [],
  };
  const violate = (index: number, c: FuzzCase, reason: string, status?: number) => {
    summary.violations++;
    if (summary.examples.length < 20) {
      const path = c.request.path.length > 120 ? `${c.request.path.slice(0, 120)}…` : c.request.path;
      summary.examples.push({
        index,
        route: c.route,
        mutations: c.mutations,
        method: c.request.method,
        path,
        status,
        reason,
      });
    }
  };
  const last = {} as Record<SurfaceName, string>;
  const rebaseline = async () => {
    for (const s of SURFACES) last[s] = await target.surfaces[s].digest();
  };
  const unattributed = async (index: number, c: FuzzCase) => {
    for (const s of SURFACES) {
      const now = await target.surfaces[s].digest();
      if (now !== last[s]) violate(index, c, `${s}: database changed with no request to explain it`);
      last[s] = now;
    }
  };
  await rebaseline();
  for (let i = 0; i < options.requests; i++) {
    const c = generateCase(rng, target.context, target.webhookSecret);
    bump(summary.bySurface, c.surface);
    for (const m of c.mutations) bump(summary.byMutation, m);
    const surface = target.surfaces[c.surface];
    let res: RawResponse;
    try {
      res = await sendRaw(surface.port, c.request);
    } catch (err) {
      bump(summary.byStatus, 'none');
      violate(i, c, (err as Error).message);
      continue;
    }
    bump(summary.byStatus, res.status);
    const broken = contractViolation(c.request.method, res);
    if (broken) violate(i, c, broken, res.status);
    const after = await surface.digest();
    if (isRefusal(res)) {
      summary.refused++;
      if (after !== last[c.surface])
        violate(i, c, `refused with ${res.status} but ${c.surface}'s database changed`, res.status);
      last[c.surface] = after;
    } else {
      summary.accepted++;
      if (c.surface === 'api' && c.request.method.trim().toUpperCase() === 'POST') {
        await target.drain();
        await rebaseline();
      } else {
        last[c.surface] = after;
      }
    }
    if (i % 250 === 249) await unattributed(i, c);
  }
  await target.drain();
  const final: FuzzCase = { surface: 'api', route: '(end of run)', mutations: [], request: { method: '-', path: '-' } };
  await unattributed(options.requests, final);
  for (const orphan of await target.orphans()) violate(options.requests, final, orphan);
  summary.seconds = Math.round((Date.now() - started) / 100) / 10;
  return summary;
}
