/**
 * Durability across a crash: the Temporal dev server on a SQLite file is killed with SIGKILL in
 * the middle of a saga (and the worker with it), restarted on the same file, and the saga resumes
 * and finishes; earlier runs are still there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { loadConfig } from '../../src/config';
import { DEV_SERVER_SEARCH_ATTRIBUTE_ARGS } from '../../src/shared/search-attributes';
import type { TripView } from '../../src/shared/trip';
import { readTrip } from '../../src/trips/trip-view';
import { bookTrip, getTrip } from '../../src/workflows';
import { auditTrip, freePort, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-restart-'));
const dbFile = path.join(dir, 'temporal.db');
let port: number;
let server: ChildProcess | undefined;
let stack: Stack | undefined;

async function startServer(): Promise<void> {
  server = spawn(
    temporalCliPath(loadConfig()),
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--db-filename',
      dbFile,
      '--log-level',
      'error',
      ...DEV_SERVER_SEARCH_ATTRIBUTE_ARGS,
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200; i++) {
    try {
      const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '1 second' });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error('Temporal dev server did not come up');
}

async function killServer(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server?.once('exit', r));
  server.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startServer();
});
afterAll(async () => {
  await stack?.stop();
  await killServer();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('resumes an unfinished saga after the Temporal server is killed with -9 and restarted on its SQLite file', async () => {
  // The payment service is down at first, so the saga stops at its last step, retrying.
  stack = await startStack({ temporalAddress: `127.0.0.1:${port}`, skipServices: ['payment'] });
  const taskQueue = stack.config.temporal.taskQueue;
  const earlier = `trip-restart-done-${Date.now()}`;
  const unfinished = `trip-restart-open-${Date.now()}`;
  await stack.client.workflow.execute(bookTrip, {
    taskQueue,
    workflowId: earlier,
    args: [sampleTrip({ hotel: { hotelId: 'H-FULL' } })],
  });
  const handle = await stack.client.workflow.start(bookTrip, {
    taskQueue,
    workflowId: unfinished,
    args: [sampleTrip()],
  });
  let view: TripView | undefined;
  for (let i = 0; i < 200 && view?.steps.payment.status !== 'RUNNING'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    view = await handle.query(getTrip);
  }
  expect(view?.steps.payment.status).toBe('RUNNING');

  await killServer();
  await startServer();
  await stack.replaceWorker();
  await stack.startService('payment', Number(new URL(stack.config.services.payment.url).port));

  const finished = await handle.result();
  expect(finished.status).toBe('CONFIRMED');
  expect(invariantViolations(finished.status, await auditTrip(stack.config, unfinished))).toEqual([]);
  // The run that ended before the crash is still there, with its outcome.
  const before = await readTrip(stack.client, earlier);
  expect(before.view.status).toBe('COMPENSATED');
  expect(before.executionStatus).toBe('COMPLETED');
});
