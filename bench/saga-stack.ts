/**
 * The stack `npm run bench` measures, as separate processes so that each one's CPU can be read:
 * the Temporal dev server (on its own SQLite file in a temp dir) and the booking services (SQLite
 * in the same dir, or PostgreSQL with DATABASE_URL) are children; the worker runs in the bench's
 * own process, sharing its connection with the bench's client (eager workflow start). `npm run
 * compare` runs the services in its own process instead, to count what they receive.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName, type Config } from '../src/config';
import type { Db } from '../src/db/knex';
import { DEV_SERVER_EAGER_START_ARGS, DEV_SERVER_SQLITE_PRAGMA_ARGS } from '../src/dev/dev-server-args';
import { PROJECT_ROOT } from '../src/dev/project-root';
import { temporalCliPath } from '../src/dev/temporal-binaries';
import { startBookingService, type RunningService } from '../src/services/booking-service';
import { DEV_SERVER_SEARCH_ATTRIBUTE_ARGS } from '../src/shared/search-attributes';
import type { TripRequest, TripView } from '../src/shared/trip';
import { freePort } from '../src/testkit/stack';
import { spawnUntil } from '../src/testkit/spawn-until';
import { tripStartOptions } from '../src/trips/start-options';
import { bookTrip } from '../src/workflows';
import { createTripWorker, type TripWorker } from '../src/workers/create-worker';
import { floorActivities } from './floor-activities';
import { pidCpuSeconds } from './process-cpu';

export const FLOOR_TASK_QUEUE = 'bench-floor';

export interface BenchStackOptions {
  /** The dev server's SQLite pragmas (WAL, synchronous=normal); off = SQLite's defaults. */
  pragmas: boolean;
  databaseUrl?: string;
  worker?: Partial<WorkerOptions>;
  /** The booking services in this process (their CPU then counts as the driver's) instead of a child. */
  inProcessServices?: boolean;
  /** Run the floor's worker too (default true). */
  floor?: boolean;
  /** The services child writes a CPU profile here when it exits (`node --cpu-prof`). */
  cpuProfDir?: string;
}

export interface BenchStack {
  config: Config;
  /** The environment a child process of this stack needs (`npm run worker` against it). */
  env: NodeJS.ProcessEnv;
  /** On the worker's own connection: starts can be eager. */
  client: Client;
  /** The services, when they run in this process (`inProcessServices`). */
  services: Partial<Record<BookingServiceName, RunningService>>;
  /** The trip API's database the worker writes each trip's end record to. */
  apiDb: Db;
  /** Starts `bookTrip` and resolves with its view once it ended. */
  runTrip(
    request: TripRequest,
    workflowId: string,
    options?: { eager?: boolean; taskQueue?: string },
  ): Promise<{ view: TripView; eager: boolean }>;
  /** CPU seconds (user + system) so far of each measured process (in-process services count as the driver's). */
  cpu(): { temporalServer: number; services: number; workerAndDriver: number };
  stop(): Promise<void>;
}

async function waitForTemporal(address: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 480; i++) {
    if (server.exitCode !== null) throw new Error(`temporal dev server exited ${server.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not come up`);
}

const stopChild = async (proc: ChildProcess | undefined) => {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
};

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-bench-'));
  let temporal: ChildProcess | undefined;
  let services: ChildProcess | undefined;
  let trip: TripWorker | undefined;
  let floor: Worker | undefined;
  const inProcess: BenchStack['services'] = {};
  const running: Array<Promise<void>> = [];
  const stop = async () => {
    for (const w of [trip?.worker, floor]) if (w?.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await trip?.connection.close().catch(() => undefined);
    await trip?.apiDb.destroy().catch(() => undefined);
    await Promise.allSettled(Object.values(inProcess).map((s) => s.close()));
    await stopChild(services);
    await stopChild(temporal);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    temporal = spawn(
      temporalCliPath(loadConfig()),
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--db-filename',
        path.join(dataDir, 'temporal.db'),
        '--log-level',
        'error',
        ...DEV_SERVER_SEARCH_ATTRIBUTE_ARGS,
        ...DEV_SERVER_EAGER_START_ARGS,
        ...(options.pragmas ? DEV_SERVER_SQLITE_PRAGMA_ARGS : []),
      ],
      { stdio: 'ignore' },
    );
    await waitForTemporal(address, temporal);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      DATA_DIR: dataDir,
      DATABASE_URL: options.databaseUrl,
      FAULTS: undefined,
      LOG_LEVEL: 'warn',
    };
    if (!options.databaseUrl) delete env.DATABASE_URL;
    delete env.FAULTS;
    if (options.inProcessServices) {
      for (const name of BOOKING_SERVICES) {
        const svc = await startBookingService(name, loadConfig(env), { port: 0 });
        inProcess[name] = svc;
        env[`${name.toUpperCase()}_PORT`] = new URL(svc.url).port;
      }
    } else {
      for (const name of BOOKING_SERVICES) env[`${name.toUpperCase()}_PORT`] = String(await freePort());
      const spawned = spawnUntil(
        process.execPath,
        [
          ...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []),
          '--import',
          'tsx',
          path.join(PROJECT_ROOT, 'src', 'processes', 'services.ts'),
        ],
        { env, cwd: PROJECT_ROOT, ready: '"service":"payment"', timeoutMs: 120_000, what: 'booking services' },
      );
      services = spawned.proc;
      await spawned.ready;
    }

    const config = loadConfig(env);
    trip = await createTripWorker(config, options.worker ?? {});
    running.push(trip.worker.run());
    if (options.floor !== false) {
      floor = await Worker.create({
        connection: trip.connection,
        namespace: config.temporal.namespace,
        taskQueue: FLOOR_TASK_QUEUE,
        workflowsPath: require.resolve('./floor-workflow'),
        activities: floorActivities,
        ...options.worker,
      });
      running.push(floor.run());
    }
    const client = new Client({ connection: trip.connection, namespace: config.temporal.namespace });
    const temporalPid = temporal.pid as number;
    const servicesPid = services?.pid;
    return {
      config,
      env,
      client,
      services: inProcess,
      apiDb: trip.apiDb,
      async runTrip(request, workflowId, runOptions = {}) {
        const handle = await client.workflow.start(bookTrip, {
          ...tripStartOptions(request, workflowId, runOptions.taskQueue ?? config.temporal.taskQueue),
          args: [request],
          requestEagerStart: runOptions.eager ?? false,
        });
        const view: TripView = await handle.result();
        return { view, eager: handle.eagerlyStarted };
      },
      cpu: () => {
        const own = process.cpuUsage();
        return {
          temporalServer: pidCpuSeconds(temporalPid),
          services: servicesPid === undefined ? 0 : pidCpuSeconds(servicesPid),
          workerAndDriver: (own.user + own.system) / 1e6,
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
