/**
 * Runs one worker process until SIGINT/SIGTERM: the SDK runtime (logs, metrics), the worker, its
 * health endpoint and the logged drain. `overrides` reach the worker's options (the chaos tool's
 * broken-saga worker swaps a module of the workflow bundle this way).
 */
import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config';
import { startHealthServer, type HealthServer } from '../http/health-server';
import { createLogger } from '../observability/logger';
import { installWorkerRuntime } from '../observability/worker-runtime';
import { startTracing } from '../observability/tracing';
import { createTripWorker, usesPrebuiltBundle } from './create-worker';

export async function runWorkerProcess(config: Config, overrides: Partial<WorkerOptions> = {}): Promise<void> {
  // JSON lines through pino; the SDK's own lines (with workflowId/runId) join the same stream.
  const tracing = startTracing(config, 'worker');
  const logger = createLogger(config, 'worker');
  const log = ({ msg, ...fields }: Record<string, unknown>) => logger.info(fields, String(msg));
  // The process owns its signals (instead of the SDK's default hook) so the drain is explicit and logged.
  const metricsUrl = installWorkerRuntime({
    host: config.host,
    metricsPort: config.worker.metricsPort,
    logger,
    shutdownSignals: [],
  });
  const { worker, connection, apiDb } = await createTripWorker(config, {
    shutdownGraceTime: config.worker.shutdownGraceMs,
    ...overrides,
  });
  let health: HealthServer | undefined;
  try {
    if (config.worker.healthPort !== undefined) {
      health = await startHealthServer({
        host: config.host,
        port: config.worker.healthPort,
        check: () => ({
          ok: worker.getState() === 'RUNNING',
          state: worker.getState(),
          taskQueue: config.temporal.taskQueue,
        }),
      });
    }
    const stop = (signal: NodeJS.Signals) => {
      if (worker.getState() !== 'RUNNING') return;
      log({ msg: 'worker draining', signal, graceMs: config.worker.shutdownGraceMs });
      worker.shutdown();
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
    log({
      msg: 'worker polling',
      taskQueue: config.temporal.taskQueue,
      temporal: config.temporal.address,
      namespace: config.temporal.namespace,
      prebuiltBundle: usesPrebuiltBundle(config),
      deploymentVersion: config.worker.deployment
        ? `${config.worker.deployment.name}.${config.worker.deployment.buildId}`
        : 'unversioned',
      healthPort: health?.port ?? null,
      metrics: metricsUrl ?? null,
    });
    await worker.run();
    log({ msg: 'worker stopped', state: worker.getState() });
  } finally {
    await health?.close();
    await connection.close();
    await apiDb.destroy();
    await tracing?.shutdown();
  }
}
