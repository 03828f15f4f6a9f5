/**
 * The one place that wires config, connections and activities into a Temporal worker. Uses the
 * prebuilt workflow bundle when one exists (production images), else bundles from source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from '../config';
import { PROJECT_ROOT } from '../dev/project-root';
import { connectionOptions } from '../temporal/connection';

export const WORKFLOW_BUNDLE_PATH = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

/** True when the worker will load the prebuilt bundle (production with `npm run build` done). */
export function usesPrebuiltBundle(): boolean {
  return process.env.NODE_ENV === 'production' && fs.existsSync(WORKFLOW_BUNDLE_PATH);
}

export interface TripWorker {
  worker: Worker;
  connection: NativeConnection;
}

export async function createTripWorker(config: Config, overrides: Partial<WorkerOptions> = {}): Promise<TripWorker> {
  const connection = await NativeConnection.connect(connectionOptions(config));
  const useBundle = usesPrebuiltBundle();
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
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
      }),
      ...overrides,
    });
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
