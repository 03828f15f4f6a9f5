/**
 * `npm run worker`: one Temporal worker process polling task queue `trips` (run as many as you
 * like against one server). On SIGINT/SIGTERM it stops polling, lets in-flight activities finish
 * for up to WORKER_SHUTDOWN_GRACE_MS, then exits 0. With WORKER_HEALTH_PORT set it serves
 * `GET /healthz` (200 while polling, 503 while draining).
 */
import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { installWorkerRuntime } from '../observability/worker-runtime';
import { createTripWorker, usesPrebuiltBundle } from './create-worker';
import { startHealthServer, type HealthServer } from '../http/health-server';

// JSON lines through pino; the SDK's own lines (with workflowId/runId) join the same stream.
let logger = createLogger({ logLevel: 'info' }, 'worker');
const log = ({ msg, ...fields }: Record<string, unknown>) => logger.info(fields, String(msg));

async function main(): Promise<void> {
  const config = loadConfig();
  logger = createLogger(config, 'worker');
  // The process owns its signals (instead of the SDK's default hook) so the drain is explicit and logged.
  const metricsUrl = installWorkerRuntime({
    host: config.host,
    metricsPort: config.worker.metricsPort,
    logger,
    shutdownSignals: [],
  });
  const { worker, connection, apiDb } = await createTripWorker(config, {
    shutdownGraceTime: config.worker.shutdownGraceMs,
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
      healthPort: health?.port ?? null,
      metrics: metricsUrl ?? null,
    });
    await worker.run();
    log({ msg: 'worker stopped', state: worker.getState() });
  } finally {
    await health?.close();
    await connection.close();
    await apiDb.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
