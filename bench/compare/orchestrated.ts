/**
 * The orchestrated flavour for `npm run compare`: bench/saga-stack.ts (a Temporal dev server on its
 * SQLite file, the worker in this process, the services in this process on PostgreSQL). Its kill
 * scenario runs the trip on a worker process of its own (`npm run worker`), SIGKILLs it once the
 * flight is booked and starts another one.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { startBenchStack, type BenchStack } from '../saga-stack';
import { temporalRpcs } from './counters';
import type { FlavorUnderTest, KillTarget } from './flavor';

export async function startOrchestrated(
  databaseUrl: string,
  database: string,
  metricsUrl: string,
): Promise<FlavorUnderTest> {
  const stack = await startBenchStack({ pragmas: true, databaseUrl, inProcessServices: true, floor: false });
  return {
    name: 'orchestrated',
    config: stack.config,
    database,
    services: Object.values(stack.services),
    tripStateDbs: [stack.apiDb],
    observerDbs: [],
    async book(tripId, request) {
      return (await stack.runTrip(request, tripId, { eager: true })).view.status;
    },
    async network() {
      const rpcs = await temporalRpcs(metricsUrl);
      return { temporalRpcs: rpcs.requests, temporalLongPolls: rpcs.longPolls };
    },
    async engineStorage(tripIds) {
      let events = 0;
      for (const id of tripIds) events += Number((await stack.client.workflow.getHandle(id).describe()).historyLength);
      return {
        storage: 'Temporal dev server, SQLite file (WAL): not in dbTransactions',
        historyEventsPerTrip: tripIds.length ? Math.round((events / tripIds.length) * 10) / 10 : null,
      };
    },
    killTarget: () => orchestratedKillTarget(stack, databaseUrl),
    stop: () => stack.stop(),
  };
}

async function orchestratedKillTarget(stack: BenchStack, databaseUrl: string): Promise<KillTarget> {
  // A task queue of its own: the bench's in-process worker must not pick the trip up.
  const taskQueue = `compare-kill-${randomUUID().slice(0, 8)}`;
  const env = {
    ...process.env,
    ...stack.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'info',
    WORKER_METRICS_PORT: '0',
  };
  let worker: ChildProcess | undefined;
  const spawnWorker = async () => {
    const spawned = spawnUntil(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/workers/worker.ts')],
      {
        env,
        cwd: PROJECT_ROOT,
        ready: 'worker polling',
        timeoutMs: 240_000,
        what: 'trip worker',
      },
    );
    worker = spawned.proc;
    await spawned.ready;
  };
  await spawnWorker();
  let handle: WorkflowHandle<typeof bookTrip> | undefined;
  const started = () => {
    if (!handle) throw new Error('the kill scenario has not started its trip');
    return handle;
  };
  return {
    victim: 'a Temporal worker process (npm run worker), SIGKILLed once the flight is booked',
    config: stack.config,
    databaseUrl,
    when: 'flight-visible',
    expected: 'CONFIRMED',
    async start(tripId, request) {
      handle = await stack.client.workflow.start(bookTrip, {
        ...tripStartOptions(request, tripId, taskQueue),
        args: [request],
      });
    },
    async kill() {
      const victim = worker as ChildProcess;
      const exited = once(victim, 'exit');
      victim.kill('SIGKILL');
      await exited;
    },
    async status() {
      const described = await started().describe();
      return described.status.name === 'RUNNING' ? 'RUNNING' : (await started().result()).status;
    },
    restart: spawnWorker,
    async waitForEnd() {
      return (await started().result()).status;
    },
    notes: {
      restart: 'a new npm run worker process (it bundles the workflow code before it polls)',
      timeouts:
        'a task the dead worker held comes back when its timeout passes: an activity after its start-to-close timeout (15 s), a workflow task after the sticky queue schedule-to-start timeout (10 s)',
    },
    async stop() {
      if (worker && worker.exitCode === null && worker.signalCode === null) {
        const exited = once(worker, 'exit');
        worker.kill('SIGTERM');
        await exited;
      }
    },
  };
}
