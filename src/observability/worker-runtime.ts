/**
 * Installs Temporal's Runtime for a worker process: SDK logs (worker, workflow and activity lines,
 * each with workflowId/runId) through pino, and a Prometheus endpoint
 * (http://HOST:WORKER_METRICS_PORT/metrics) with Temporal's worker metrics plus the project's own
 * (trip_sagas_*, trip_compensation_*, trip_step_duration). Once per process, before the first
 * connection; later calls are no-ops.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import type { Logger as PinoLogger } from 'pino';
import { temporalLogger } from './logger';

let installed: { metricsUrl?: string } | undefined;

/** Histogram buckets (ms) for step latencies: service calls take milliseconds to seconds. */
export const STEP_DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

export interface WorkerRuntimeOptions {
  host: string;
  /** 0 = no metrics endpoint. */
  metricsPort: number;
  logger: PinoLogger;
  shutdownSignals?: RuntimeOptions['shutdownSignals'];
}

/** Returns the metrics URL (undefined when off, or when a Runtime already existed, as in tests). */
export function installWorkerRuntime(options: WorkerRuntimeOptions): string | undefined {
  if (installed) return installed.metricsUrl;
  const bindAddress = `${options.host}:${options.metricsPort}`;
  try {
    Runtime.install({
      logger: temporalLogger(options.logger),
      shutdownSignals: options.shutdownSignals,
      telemetryOptions: {
        // Core's own warnings (e.g. a workflow task that runs long local activities) go through
        // pino too; printed natively they would break the JSON lines on stdout.
        logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
        ...(options.metricsPort > 0
          ? {
              metrics: {
                prometheus: {
                  bindAddress,
                  countersTotalSuffix: true,
                  histogramBucketOverrides: { trip_step_duration: STEP_DURATION_BUCKETS_MS },
                },
              },
            }
          : {}),
      },
    });
  } catch (err) {
    // A Runtime already exists (created implicitly by an earlier worker or connection).
    options.logger.warn({ err: (err as Error).message }, 'Temporal Runtime already installed; keeping it');
    installed = {};
    return undefined;
  }
  installed = { metricsUrl: options.metricsPort > 0 ? `http://${bindAddress}/metrics` : undefined };
  return installed.metricsUrl;
}
