/**
 * Installs Temporal's Runtime for a worker process: SDK logs through pino, and a Prometheus
 * endpoint (http://HOST:WORKER_METRICS_PORT/metrics) with Temporal's worker metrics plus the
 * project's own (trip_sagas_*, trip_compensation_*, trip_step_duration). Install once per
 * process, before the first connection; later calls are no-ops.
 */
import { Runtime } from '@temporalio/worker';
import type { Logger as PinoLogger } from 'pino';
import { temporalLogger } from './logger';

let installed: string | undefined;

/** Histogram buckets (ms) for step latencies: service calls take milliseconds to seconds. */
export const STEP_DURATION_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Returns the metrics URL, or undefined if another Runtime was installed first (tests). */
export function installWorkerRuntime(options: { host: string; metricsPort: number; logger: PinoLogger }): string | undefined {
  if (installed) return installed;
  const bindAddress = `${options.host}:${options.metricsPort}`;
  try {
    Runtime.install({
      logger: temporalLogger(options.logger),
      telemetryOptions: {
        metrics: {
          prometheus: {
            bindAddress,
            countersTotalSuffix: true,
            histogramBucketOverrides: { trip_step_duration: STEP_DURATION_BUCKETS_MS },
          },
        },
      },
    });
  } catch (err) {
    // A Runtime already exists (created implicitly by an earlier worker or connection).
    options.logger.warn({ err: (err as Error).message }, 'Temporal Runtime already installed; worker metrics endpoint not started');
    return undefined;
  }
  installed = `http://${bindAddress}/metrics`;
  return installed;
}
