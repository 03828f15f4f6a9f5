/**
 * `npm run worker`: one Temporal worker process polling task queue `trips` (run as many as you
 * like against one server). SIGINT/SIGTERM drain in-flight activities before exiting.
 */
import { loadConfig } from '../config';
import { createTripWorker } from './create-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const { worker, connection } = await createTripWorker(config);
  console.log(
    JSON.stringify({ msg: 'worker polling', taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, namespace: config.temporal.namespace }),
  );
  try {
    // The SDK shuts down gracefully on SIGINT/SIGTERM and resolves run() when drained.
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
