/**
 * Worker Versioning on a real dev server: workers configured with WORKER_DEPLOYMENT_NAME and
 * WORKER_BUILD_ID poll as that Worker Deployment Version; a trip started while build A is the
 * current version is pinned to A and keeps running there after build B becomes current, while new
 * trips start on B (the rollout of docs/workflow-changes.md).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/testkit/free-port';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { devServerEnv } from '../../src/testkit/temporal-env';
import { tripStartOptions } from '../../src/trips/start-options';
import { createTripWorker, type TripWorker } from '../../src/workers/create-worker';
import { bookTrip, cancelTripSignal, getTrip } from '../../src/workflows';

const { EventType, VersioningBehavior } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
let dataDir: string;
const workers: Array<{ created: TripWorker; running: Promise<void> }> = [];
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  env = await devServerEnv();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-versioning-'));
});
afterAll(async () => {
  await Promise.allSettled(handles.map((h) => h.terminate('test done')));
  for (const { created, running } of workers) {
    if (created.worker.getState() === 'RUNNING') created.worker.shutdown();
    await running.catch(() => undefined);
    await created.connection.close();
    await created.apiDb.destroy();
  }
  await env?.teardown();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const deploymentName = `trip-saga-${randomUUID().slice(0, 8)}`;
const taskQueue = `versioned-${randomUUID()}`;

async function startWorker(buildId: string): Promise<void> {
  // Nothing listens at the services' address: the trip waits at its first step, retrying.
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const config = loadConfig({
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    LOG_LEVEL: 'warn',
    FLIGHT_URL: nowhere,
    HOTEL_URL: nowhere,
    CAR_URL: nowhere,
    PAYMENT_URL: nowhere,
    WORKER_DEPLOYMENT_NAME: deploymentName,
    WORKER_BUILD_ID: buildId,
  });
  expect(config.worker.deployment).toEqual({ name: deploymentName, buildId, defaultBehavior: 'PINNED' });
  const created = await createTripWorker(config);
  workers.push({ created, running: created.worker.run() });
}

/** What `temporal worker deployment set-current-version` does; the version exists once its worker has polled. */
async function setCurrentVersion(buildId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await env.client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: 'default',
        deploymentName,
        buildId,
        identity: 'worker-versioning.test',
      });
      return;
    } catch (err) {
      if (attempt >= 120) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function startTrip(): Promise<WorkflowHandle<typeof bookTrip>> {
  const request = sampleTrip();
  const handle = await env.client.workflow.start(bookTrip, {
    ...tripStartOptions(request, `trip-versioning-${randomUUID()}`, taskQueue),
    args: [request],
  });
  handles.push(handle);
  return handle;
}

/** The run's versioning info, once its first workflow task has completed on a versioned worker. */
async function pinnedVersion(handle: WorkflowHandle) {
  for (let attempt = 0; attempt < 240; attempt++) {
    const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
    if (info?.behavior) return { behavior: info.behavior, buildId: info.deploymentVersion?.buildId };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${handle.workflowId} never got versioning info`);
}

/** The Worker Deployment Version that completed each of the run's workflow tasks. */
async function taskBuildIds(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => {
      const version = e.workflowTaskCompletedEventAttributes?.deploymentVersion;
      return `${version?.deploymentName ?? ''}.${version?.buildId ?? ''}`;
    });
}

it('pins a trip to the build it started on while new trips start on the new current build', async () => {
  await startWorker('build-a');
  await setCurrentVersion('build-a');
  const early = await startTrip();
  expect(await pinnedVersion(early)).toEqual({
    behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    buildId: 'build-a',
  });

  // The rollout: build B polls next to A, then becomes the current version.
  await startWorker('build-b');
  await setCurrentVersion('build-b');
  const late = await startTrip();
  expect(await pinnedVersion(late)).toEqual({
    behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    buildId: 'build-b',
  });

  // The trip in flight is still A's: a cancel is a new workflow task, and A's worker runs it.
  await early.signal(cancelTripSignal);
  for (let i = 0; i < 240 && (await early.query(getTrip)).status === 'BOOKING'; i++) {
    await new Promise((r) => setTimeout(r, 250));
  }
  expect((await early.query(getTrip)).status).toBe('CANCELLING');
  expect(await pinnedVersion(early)).toEqual({
    behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    buildId: 'build-a',
  });
  const earlyTasks = await taskBuildIds(early);
  expect(earlyTasks.length).toBeGreaterThanOrEqual(2);
  expect(new Set(earlyTasks)).toEqual(new Set([`${deploymentName}.build-a`]));
  expect(new Set(await taskBuildIds(late))).toEqual(new Set([`${deploymentName}.build-b`]));

  // The check before retiring build A (docs/workflow-changes.md): its open runs, by visibility.
  const openOnA = `TemporalWorkerDeploymentVersion = '${deploymentName}:build-a' AND ExecutionStatus = 'Running'`;
  expect(await eventuallyCount(openOnA, 1)).toBe(1);
  await early.terminate('drained by hand in the test');
  expect(await eventuallyCount(openOnA, 0)).toBe(0);
}, 240_000);

/** The count of runs matching a visibility query, polled until it is `expected` (visibility lags a little). */
async function eventuallyCount(query: string, expected: number): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 120 && count !== expected; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250));
    count = (await env.client.workflow.count(query)).count;
  }
  return count;
}
