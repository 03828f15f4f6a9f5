/**
 * The worker process as an operator runs it (`npm run worker`): Prometheus metrics on
 * WORKER_METRICS_PORT (Temporal's runtime metrics plus trip_*), and JSON log lines that carry
 * workflowId/runId whenever they concern a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { freePort, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { FailureType } from '../../src/shared/failures';
import { startRefusingUndoProxy, type RefusingUndoProxy } from '../support/refusing-undo-proxy';

let stack: Stack;
let worker: ChildProcess;
let metricsPort: number;
/** The flight service, except that it refuses to undo trips named `needs-attention`. */
let flightProxy: RefusingUndoProxy;
const lines: string[] = [];
const taskQueue = `observed-${randomUUID()}`;

beforeAll(async () => {
  stack = await startStack();
  metricsPort = await freePort();
  const { config } = stack;
  flightProxy = await startRefusingUndoProxy(config.services.flight.url, 'needs-attention');
  worker = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/workers/worker.ts'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        TEMPORAL_ADDRESS: config.temporal.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        DATA_DIR: config.dataDir,
        FLIGHT_URL: flightProxy.url,
        HOTEL_URL: config.services.hotel.url,
        CAR_URL: config.services.car.url,
        PAYMENT_URL: config.services.payment.url,
        WORKER_METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let buffered = '';
  worker.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
  });
  const stderr: string[] = [];
  worker.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!lines.some((l) => l.includes('"worker polling"'))) {
    if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await flightProxy?.close();
  await stack?.stop();
});

const book = (request = sampleTrip()) =>
  stack.client.workflow.execute(bookTrip, {
    ...tripStartOptions(request, `trip-${randomUUID()}`, taskQueue),
    args: [request],
  });

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample line (`name{labels} value`), 0 when absent. */
function sample(body: string, name: string, labels = ''): number {
  const line = body.split('\n').find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'));
  return line ? Number(line.trim().split(/\s+/).pop()) : 0;
}

describe('worker metrics and logs', () => {
  it('counts sagas by outcome and times each step on the Prometheus endpoint', async () => {
    const confirmed = await book();
    const compensated = await book(sampleTrip({ payment: { token: 'tok_declined' } }));
    expect([confirmed.status, compensated.status]).toEqual(['CONFIRMED', 'COMPENSATED']);
    let body = '';
    for (let i = 0; i < 50; i++) {
      body = await scrape();
      if (
        sample(body, 'trip_sagas_compensated_total') >= 1 &&
        sample(body, 'trip_sagas_completed_total', 'CONFIRMED') >= 1
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sample(body, 'trip_sagas_started_total')).toBe(2);
    expect(sample(body, 'trip_sagas_completed_total', 'status="CONFIRMED"')).toBe(1);
    expect(sample(body, 'trip_sagas_completed_total', 'status="COMPENSATED"')).toBe(1);
    expect(sample(body, 'trip_sagas_compensated_total')).toBe(1);
    // Forward steps: 4 + 4 attempts (the declined capture is one failed attempt); compensations: 4.
    const count = (labels: string) =>
      body
        .split('\n')
        .filter((l) => l.startsWith('trip_step_duration_count') && labels.split(',').every((x) => l.includes(x)))
        .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).pop()), 0);
    expect(count('kind="forward",outcome="ok"')).toBe(7);
    expect(count('activity="capturePayment",outcome="error"')).toBe(1);
    expect(count('kind="compensation"')).toBe(4);
    expect(body).toMatch(/^temporal_workflow_completed/m);
  });

  it('writes JSON log lines with workflowId and runId on every line about a run', async () => {
    const request = sampleTrip({ hotel: { hotelId: 'H-FULL' } });
    const handle = await stack.client.workflow.start(bookTrip, {
      ...tripStartOptions(request, `trip-${randomUUID()}`, taskQueue),
      args: [request],
    });
    await handle.result();
    await new Promise((r) => setTimeout(r, 500));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const aboutRun = parsed.filter((l) => l.workflowId === handle.workflowId);
    const steps = (msg: string) => aboutRun.filter((l) => l.msg === msg && l.kind !== 'other').map((l) => l.step);
    expect(steps('activity done')).toEqual(['reserveFlight', 'cancelHotel', 'cancelFlight']);
    expect(steps('activity failed')).toEqual(['reserveHotel']);
    for (const line of aboutRun) expect(line.runId).toBe(handle.firstExecutionRunId);
    // Every line that names an activity of a run also names the run.
    for (const line of parsed.filter((l) => l.activityType !== undefined)) {
      expect(typeof line.workflowId).toBe('string');
      expect(typeof line.runId).toBe('string');
    }
  });

  it('counts a trip that needs attention, by the step whose undo failed (what to alert on)', async () => {
    const request = sampleTrip({ hotel: { hotelId: 'H-FULL' } });
    await expect(
      stack.client.workflow.execute(bookTrip, {
        ...tripStartOptions(request, `trip-needs-attention-${randomUUID()}`, taskQueue),
        args: [request],
      }),
    ).rejects.toMatchObject({ cause: { type: FailureType.NeedsAttention } });
    let body = '';
    for (let i = 0; i < 50; i++) {
      body = await scrape();
      if (sample(body, 'trip_sagas_completed_total', 'status="NEEDS_ATTENTION"') >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sample(body, 'trip_sagas_completed_total', 'status="NEEDS_ATTENTION"')).toBe(1);
    expect(sample(body, 'trip_compensation_failures_total', 'step="flight"')).toBe(1);
  });
});
