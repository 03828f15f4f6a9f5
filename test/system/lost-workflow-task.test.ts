/**
 * A worker dies after its local steps booked, before its workflow task completed: the history
 * holds none of what it did. A user cancel arrives before the next worker takes the run over, so
 * the re-run goes down the cancel path before it reaches those steps. It must still undo
 * everything the lost task booked (and, when the lost task had already recorded CONFIRMED, end
 * CANCELLED all the same). `npm run chaos` once found the run that did not (step-calls.ts).
 */
import { type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import type { TripView } from '../../src/shared/trip';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { auditTrip, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { tripStartOptions } from '../../src/trips/start-options';
import { findTrip, openApiDatabase } from '../../src/trips/trip-records';
import { OUTBOX_TABLE } from '../../src/outbox/outbox-table';
import { bookTrip, cancelTripSignal } from '../../src/workflows';
import { createTripWorker, type TripWorker } from '../../src/workers/create-worker';

let stack: Stack;
const children: ChildProcess[] = [];
const replacements: TripWorker[] = [];

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const r of replacements) {
    if (r.worker.getState() === 'RUNNING') r.worker.shutdown();
  }
  await stack?.stop();
});

/** Books a trip on a worker that dies after `dieAfter`; cancels it; a new worker finishes it. */
async function loseTaskThenCancel(dieAfter: string): Promise<TripView> {
  const taskQueue = `lost-task-${randomUUID()}`;
  const spawned = spawnUntil(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '..', 'support', 'dying-worker.ts')],
    {
      env: { ...process.env, ...stack.env, TEMPORAL_TASK_QUEUE: taskQueue, DIE_AFTER: dieAfter },
      cwd: PROJECT_ROOT,
      ready: 'dying worker polling',
      timeoutMs: 60_000,
      what: 'dying worker',
    },
  );
  children.push(spawned.proc);
  const died = new Promise<NodeJS.Signals | null>((resolve) =>
    spawned.proc.once('exit', (_code, signal) => resolve(signal)),
  );
  await spawned.ready;

  const request = sampleTrip();
  const workflowId = `trip-lost-${dieAfter}-${randomUUID()}`;
  const handle = await stack.client.workflow.start(bookTrip, {
    ...tripStartOptions(request, workflowId, taskQueue),
    args: [request],
  });
  expect(await died).toBe('SIGKILL');

  // The user cancels while no worker runs the trip; the history still holds none of its steps.
  await handle.signal(cancelTripSignal);
  const replacement = await createTripWorker({ ...stack.config, temporal: { ...stack.config.temporal, taskQueue } });
  replacements.push(replacement);
  const running = replacement.worker.run();
  try {
    return await handle.result();
  } finally {
    replacement.worker.shutdown();
    await running;
    await replacement.connection.close();
    await replacement.apiDb.destroy();
  }
}

it('undoes what a lost workflow task booked when a cancel gets in before the re-run', async () => {
  const view = await loseTaskThenCancel('reserveCar');
  expect(view.status).toBe('CANCELLED');
  const audit = await auditTrip(stack.config, view.tripId);
  // The lost task really booked flight, hotel and car; all of it is undone, and payment is
  // tombstoned (never captured).
  for (const step of ['flight', 'hotel', 'car'] as const)
    expect(audit[step].map((r) => r.status)).toEqual(['CANCELLED']);
  expect(audit.payment.filter((r) => r.status === 'CAPTURED')).toEqual([]);
  expect(invariantViolations(view.status, audit)).toEqual([]);
}, 120_000);

it('ends CANCELLED with everything undone when the lost task had already recorded CONFIRMED', async () => {
  const view = await loseTaskThenCancel('recordTripOutcome');
  expect(view.status).toBe('CANCELLED');
  const audit = await auditTrip(stack.config, view.tripId);
  for (const step of ['flight', 'hotel', 'car'] as const)
    expect(audit[step].map((r) => r.status)).toEqual(['CANCELLED']);
  expect(audit.payment.map((r) => r.status)).toEqual(['REFUNDED']);
  expect(invariantViolations(view.status, audit)).toEqual([]);

  // The trip record follows the run to CANCELLED; the confirmation the lost task announced is
  // followed by the cancellation, one event each.
  const api = await openApiDatabase(stack.config);
  try {
    expect((await findTrip(api, view.tripId))?.status).toBe('CANCELLED');
    const events = await api(OUTBOX_TABLE).where({ aggregate_id: view.tripId }).orderBy('seq').pluck('event_type');
    expect(events).toEqual(['TripConfirmed', 'TripCancelled']);
  } finally {
    await api.destroy();
  }
}, 120_000);
