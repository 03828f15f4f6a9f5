/**
 * The one place that wires config, connections and activities into a Temporal worker. Uses the
 * prebuilt workflow bundle when one exists (production images), else bundles from source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from '../config';
import { PROJECT_ROOT } from '../dev/project-root';
import { connectionOptions } from '../temporal/connection';
import { dataConverterFor } from '../temporal/data-converter';
import { stepMetricsInterceptor } from '../observability/step-metrics';
import {
  activityTracingInterceptor,
  tracingInstalled,
  WORKFLOW_TRACING_MODULES,
  workflowTracingSinks,
} from '../observability/tracing';
import type { Db } from '../db/knex';
import { recordTripOutcome } from '../trips/trip-outcome';
import { openApiDatabase } from '../trips/trip-records';

export const WORKFLOW_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

/** True when the worker will load the prebuilt bundle (NODE_ENV=production with `npm run build` done). */
export function usesPrebuiltBundle(config: Pick<Config, 'worker'>): boolean {
  return config.worker.prebuiltBundle && fs.existsSync(WORKFLOW_BUNDLE_PATH);
}

/**
 * Worker Versioning: a worker with WORKER_DEPLOYMENT_NAME/WORKER_BUILD_ID polls as that Worker
 * Deployment Version and gets only the tasks the server routes to it (docs/workflow-changes.md);
 * without them it is unversioned, as before.
 */
export function workerDeploymentOptions(
  config: Pick<Config, 'worker'>,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  const deployment = config.worker.deployment;
  if (deployment === undefined) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: deployment.name, buildId: deployment.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: deployment.defaultBehavior,
    },
  };
}

export interface TripWorker {
  worker: Worker;
  connection: NativeConnection;
  /** The API database the saga's end record is written to; destroy it after the worker stops. */
  apiDb: Db;
}

/** An error that says the Temporal server could not be reached (connect, or a call on a new connection). */
export const isUnreachable = (err: unknown): boolean =>
  /tcp connect error|Unavailable|connection refused|transport error/i.test(String(err));

/**
 * Runs `attempt` again with backoff for up to `timeoutMs` while it fails because the Temporal
 * server cannot be reached: a worker restarted while the server restarts too waits for it instead
 * of exiting. Any other error, or the same one past the deadline, is thrown.
 */
export async function untilReachable<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T>,
  onRetry: (err: unknown, delayMs: number) => void = (err, delayMs) =>
    Runtime.instance().logger.warn(`${what}: Temporal server unreachable; retrying`, { delayMs, error: String(err) }),
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      return await attempt();
    } catch (err) {
      if (!isUnreachable(err) || Date.now() + delayMs > deadline) throw err;
      onRetry(err, delayMs);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

export async function createTripWorker(config: Config, overrides: Partial<WorkerOptions> = {}): Promise<TripWorker> {
  const timeoutMs = config.worker.connectTimeoutMs;
  const connection = await untilReachable(`connect to ${config.temporal.address}`, timeoutMs, () =>
    NativeConnection.connect(connectionOptions(config)),
  );
  const apiDb = await openApiDatabase(config);
  const useBundle = usesPrebuiltBundle(config);
  const traced = tracingInstalled();
  try {
    // Creating the worker describes the namespace: the server may have gone down since the connect.
    const create = () =>
      Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        dataConverter: dataConverterFor(config),
        ...(useBundle
          ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
          : { workflowsPath: require.resolve('../workflows') }),
        activities: createActivities({
          endpoints: {
            flight: config.services.flight.url,
            hotel: config.services.hotel.url,
            car: config.services.car.url,
            payment: config.services.payment.url,
          },
          tripRecorder: (view, request, principal) => recordTripOutcome(apiDb, view, request, principal),
        }),
        // Tracing interceptors only where there is a tracer: off, they cost worker CPU on every
        // task for spans that go nowhere. The prebuilt bundle holds the workflow ones regardless
        // (scripts/build-workflow-bundle.ts), so it always gets their sink, a no-op when off.
        interceptors: {
          activity: traced ? [stepMetricsInterceptor, activityTracingInterceptor] : [stepMetricsInterceptor],
          ...(traced && !useBundle ? { workflowModules: WORKFLOW_TRACING_MODULES } : {}),
        },
        ...(traced || useBundle ? { sinks: workflowTracingSinks() } : {}),
        ...workerDeploymentOptions(config),
        ...overrides,
      });
    const worker = await untilReachable(`create the worker on ${config.temporal.address}`, timeoutMs, create);
    return { worker, connection, apiDb };
  } catch (err) {
    await apiDb.destroy();
    await connection.close();
    throw err;
  }
}
