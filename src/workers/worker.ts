/**
 * `npm run worker`: one Temporal worker process polling task queue `trips` (run as many as you
 * like against one server). On SIGINT/SIGTERM it stops polling, lets in-flight activities finish
 * for up to WORKER_SHUTDOWN_GRACE_MS, then exits 0. With WORKER_HEALTH_PORT set it serves
 * `GET /healthz` (200 while polling, 503 while draining).
 */
import { loadConfig } from '../config';
import { runWorkerProcess } from './run-worker';

runWorkerProcess(loadConfig()).catch((err) => {
  console.error(err);
  process.exit(1);
});
