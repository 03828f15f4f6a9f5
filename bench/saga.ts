/**
 * `npm run bench [-- --concurrency 1,8,32 --trips 200]`: the trip saga's throughput and latency.
 * Starts its own stack (bench/saga-stack.ts: a Temporal dev server on its own SQLite file, the
 * booking services on SQLite — or PostgreSQL with DATABASE_URL — and the worker), then for each
 * concurrency drives `--trips` trips closed loop (every tenth declined at payment, so compensated)
 * and, on the same server and worker, the floor: the same four-step shape with steps that do
 * nothing, as local activities. Every trip is awaited to its end and audited through the services'
 * audit endpoints (invariants 1-2 of docs/architecture); any violation fails the bench (exit 1).
 * Prints one JSON line per concurrency. Options: `--pragmas off` (the dev server's SQLite
 * defaults), `--eager off` (no eager workflow start), `--floor off`, `--cpu-prof DIR` (CPU profiles of
 * the bench's main thread and of the services, written to DIR).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { sampleTrip } from '../src/testkit/sample-trip';
import { auditOutcomes, closedLoop, declined, percentile, round, type TripOutcome } from './bench-support';
import { floorTrip } from './floor-workflow';
import { FLOOR_TASK_QUEUE, startBenchStack, type BenchStack } from './saga-stack';

type Cpu = ReturnType<BenchStack['cpu']>;

export interface PhaseResult {
  trips: number;
  sagasPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** CPU seconds (user + system) per saga of each process while this phase ran. */
  cpuSecondsPerSaga: Cpu;
  /** Runs the server started on the worker at once (eager workflow start). */
  eagerlyStarted: number;
}

/** Runs `trips` sagas, `concurrency` at a time; `run` resolves with the terminal status. */
async function phase(
  stack: BenchStack,
  trips: number,
  concurrency: number,
  run: (i: number) => Promise<TripOutcome & { eager: boolean }>,
): Promise<{ result: PhaseResult; outcomes: TripOutcome[] }> {
  const cpuBefore = stack.cpu();
  const { results, seconds } = await closedLoop(trips, concurrency, run);
  const cpuAfter = stack.cpu();
  const latencies = results.map((r) => r.latencyMs).sort((a, b) => a - b);
  const perSaga = (k: keyof Cpu) => round((cpuAfter[k] - cpuBefore[k]) / trips, 4);
  return {
    outcomes: results.map(({ workflowId, status, expected }) => ({ workflowId, status, expected })),
    result: {
      trips,
      sagasPerSec: round(trips / seconds, 1),
      p50Ms: round(percentile(latencies, 50), 1),
      p95Ms: round(percentile(latencies, 95), 1),
      p99Ms: round(percentile(latencies, 99), 1),
      cpuSecondsPerSaga: {
        temporalServer: perSaga('temporalServer'),
        services: perSaga('services'),
        workerAndDriver: perSaga('workerAndDriver'),
      },
      eagerlyStarted: results.filter((r) => r.eager).length,
    },
  };
}

/** One saga run to its end: CONFIRMED, or COMPENSATED when declined. */
async function runSaga(stack: BenchStack, i: number, eager: boolean, tag: string) {
  const request = sampleTrip(declined(i) ? { payment: { token: 'tok_declined' } } : {});
  const workflowId = `trip-bench-${tag}-${i}`;
  const { view, eager: eagerlyStarted } = await stack.runTrip(request, workflowId, { eager });
  return {
    workflowId,
    status: view.status,
    expected: declined(i) ? 'COMPENSATED' : 'CONFIRMED',
    eager: eagerlyStarted,
  };
}

async function runFloor(stack: BenchStack, i: number, eager: boolean, tag: string) {
  const workflowId = `floor-bench-${tag}-${i}`;
  const handle = await stack.client.workflow.start(floorTrip, {
    workflowId,
    taskQueue: FLOOR_TASK_QUEUE,
    args: declined(i) ? ['payment'] : [],
    requestEagerStart: eager,
  });
  const status = await handle.result();
  return { workflowId, status, expected: declined(i) ? 'COMPENSATED' : 'CONFIRMED', eager: handle.eagerlyStarted };
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string', default: '1,8,32' },
      trips: { type: 'string', default: '200' },
      pragmas: { type: 'string', default: 'on' },
      eager: { type: 'string', default: 'on' },
      floor: { type: 'string', default: 'on' },
      'cpu-prof': { type: 'string' },
    },
  });
  const concurrencies = values.concurrency.split(',').map(Number);
  const trips = Number(values.trips);
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--concurrency: positive integers');
  if (!Number.isInteger(trips) || trips < 1) throw new Error('--trips: a positive integer');
  const onOff = (name: string, v: string) => {
    if (v !== 'on' && v !== 'off') throw new Error(`--${name}: on or off`);
    return v === 'on';
  };
  return {
    concurrencies,
    trips,
    pragmas: onOff('pragmas', values.pragmas),
    eager: onOff('eager', values.eager),
    floor: onOff('floor', values.floor),
    cpuProfDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
  };
}

/**
 * `--cpu-prof DIR`: a V8 CPU profile of this process's main thread (the worker's activities, the
 * SDK's bridge, the client) over the measured phases, written to DIR when they end. The services
 * child writes its own there (`node --cpu-prof`). Open them in Chrome DevTools or speedscope.
 */
async function startMainThreadProfile(dir: string): Promise<() => Promise<void>> {
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `bench-main-${process.pid}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.error(`cpu profile of the bench's main thread: ${file}`);
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  // The worker's own log lines (a declined payment is a warning) would drown the JSON on stderr.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const stack = await startBenchStack({ pragmas: options.pragmas, databaseUrl, cpuProfDir: options.cpuProfDir });
  let failed = false;
  try {
    const run = randomUUID().slice(0, 8);
    // A few trips first so that bundling, JIT and connection set-up are not measured.
    await Promise.all([0, 1, 2, 3].map((i) => runSaga(stack, i, options.eager, `${run}-warmup`)));
    if (options.floor) await Promise.all([0, 1].map((i) => runFloor(stack, i, options.eager, `${run}-warmup`)));
    const stopProfile = options.cpuProfDir ? await startMainThreadProfile(options.cpuProfDir) : undefined;
    for (const concurrency of options.concurrencies) {
      const tag = `${run}-c${concurrency}`;
      const floor = options.floor
        ? await phase(stack, options.trips, concurrency, (i) => runFloor(stack, i, options.eager, tag))
        : undefined;
      const saga = await phase(stack, options.trips, concurrency, (i) => runSaga(stack, i, options.eager, tag));
      const violations = [
        ...(await auditOutcomes(stack.config, saga.outcomes)),
        ...(floor?.outcomes ?? [])
          .filter((o) => o.status !== o.expected)
          .map((o) => `${o.workflowId}: floor ended ${o.status}, expected ${o.expected}`),
      ];
      if (violations.length > 0) failed = true;
      for (const v of violations.slice(0, 20)) console.error(`violation: ${v}`);
      console.log(
        JSON.stringify({
          bench: 'saga',
          concurrency,
          trips: options.trips,
          declined: saga.outcomes.filter((o) => o.expected === 'COMPENSATED').length,
          services: databaseUrl ? 'postgresql' : 'sqlite',
          devServerPragmas: options.pragmas ? 'wal,synchronous=normal' : 'sqlite defaults',
          eagerStart: options.eager,
          saga: saga.result,
          floor: floor?.result ?? null,
          sagaToFloor: floor ? round(saga.result.sagasPerSec / floor.result.sagasPerSec, 2) : null,
          audited: saga.outcomes.length,
          violations: violations.length,
        }),
      );
    }
    await stopProfile?.();
  } finally {
    await stack.stop();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
