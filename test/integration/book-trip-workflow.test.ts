/** The saga's control flow on the time-skipping test server, with mocked activities. */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { FailureType } from '../../src/shared/failures';
import type { StepName, TripView } from '../../src/shared/trip';
import { bookTrip, cancelConfirmedTrip, cancelTrip, getTrip } from '../../src/workflows';
import { devServerEnv, timeSkippingEnv } from '../../src/testkit/temporal-env';
import { sampleTrip } from '../../src/testkit/sample-trip';

let env: TestWorkflowEnvironment;
/**
 * A real dev server for a step that blocks: the time-skipping server cannot see a local activity
 * and, skipping time while one runs, times out the workflow task that runs it (which re-runs it).
 */
let devEnv: TestWorkflowEnvironment;
beforeAll(async () => {
  [env, devEnv] = await Promise.all([timeSkippingEnv(), devServerEnv()]);
});
afterAll(async () => {
  await env?.teardown();
  await devEnv?.teardown();
});

type Calls = string[];
const FORWARD: Record<StepName, keyof Activities> = {
  flight: 'reserveFlight',
  hotel: 'reserveHotel',
  car: 'reserveCar',
  payment: 'capturePayment',
};
const UNDO: Record<StepName, keyof Activities> = {
  flight: 'cancelFlight',
  hotel: 'cancelHotel',
  car: 'cancelCar',
  payment: 'refundPayment',
};

/** Every compensation once, last step first: what a run undoes on a cancel or a doubtful failure. */
const UNDO_EVERY_STEP = ['refundPayment#1', 'cancelCar#1', 'cancelHotel#1', 'cancelFlight#1'];

/** Activities that record their calls; `failAt` makes that forward step fail for good. */
function mockActivities(
  calls: Calls,
  opts: {
    failAt?: StepName;
    /** The failure type `failAt` throws (default: the step's business refusal). */
    failType?: string;
    undoFailures?: Partial<Record<StepName, number>>;
    block?: StepName;
    undoRefused?: StepName;
    /** Each undo takes this long (real time), so a test can act while compensations run. */
    undoDelayMs?: number;
  } = {},
) {
  const acts = {} as Record<keyof Activities, (...args: unknown[]) => Promise<unknown>>;
  const undoAttempts: Partial<Record<StepName, number>> = {};
  for (const step of Object.keys(FORWARD) as StepName[]) {
    acts[FORWARD[step]] = async () => {
      calls.push(FORWARD[step]);
      if (opts.block === step) {
        // Blocks until cancelled; heartbeats are how an activity learns of cancellation.
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 50))]);
        }
      }
      if (opts.failAt === step) {
        throw ApplicationFailure.create({
          type: opts.failType ?? (step === 'payment' ? FailureType.PaymentDeclined : FailureType.SoldOut),
          message: `${step} refused`,
          nonRetryable: true,
        });
      }
      return { id: `${step}-1`, status: 'OK' };
    };
    acts[UNDO[step]] = async () => {
      if (opts.undoDelayMs) await new Promise((r) => setTimeout(r, opts.undoDelayMs));
      undoAttempts[step] = (undoAttempts[step] ?? 0) + 1;
      calls.push(`${UNDO[step]}#${undoAttempts[step]}`);
      if ((undoAttempts[step] ?? 0) <= (opts.undoFailures?.[step] ?? 0)) throw new Error(`${step} service unavailable`);
      if (opts.undoRefused === step) {
        throw ApplicationFailure.create({
          type: FailureType.InvalidRequest,
          message: `${step} refuses the cancel`,
          nonRetryable: true,
        });
      }
      return { outcome: 'CANCELLED' };
    };
  }
  // The end record (trip row + outbox event) is not this test's concern.
  acts.recordTripOutcome = async (...args: unknown[]) => {
    calls.push(`recordTripOutcome:${(args[0] as TripView).status}`);
  };
  return acts;
}

async function mockWorker(calls: Calls, opts: Parameters<typeof mockActivities>[1], on = env) {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: on.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../../src/workflows'),
    activities: mockActivities(calls, opts),
  });
  return { worker, taskQueue };
}

async function runTrip(calls: Calls, opts: Parameters<typeof mockActivities>[1] = {}) {
  const { worker, taskQueue } = await mockWorker(calls, opts);
  return worker.runUntil(
    env.client.workflow.execute(bookTrip, { taskQueue, workflowId: `trip-${randomUUID()}`, args: [sampleTrip()] }),
  );
}

/** Starts a trip whose `step` never finishes, waits until the saga is in it, then runs `act`. */
async function withBlockedStep<T>(
  calls: Calls,
  step: StepName,
  act: (handle: WorkflowHandle<typeof bookTrip>) => Promise<T>,
) {
  const { worker, taskQueue } = await mockWorker(calls, { block: step }, devEnv);
  return worker.runUntil(async () => {
    const handle = await devEnv.client.workflow.start(bookTrip, {
      taskQueue,
      workflowId: `trip-${randomUUID()}`,
      args: [sampleTrip()],
    });
    for (let i = 0; i < 100 && (await handle.query(getTrip)).steps[step].status !== 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return act(handle);
  });
}

describe('bookTrip', () => {
  it('confirms a trip when every step succeeds, without compensating', async () => {
    const calls: Calls = [];
    const view = await runTrip(calls);
    expect(view.status).toBe('CONFIRMED');
    expect(calls).toEqual([
      'reserveFlight',
      'reserveHotel',
      'reserveCar',
      'capturePayment',
      'recordTripOutcome:CONFIRMED',
    ]);
    expect(Object.values(view.steps).map((s) => s.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
  });

  const cases: Array<[StepName, string[]]> = [
    ['flight', ['reserveFlight', 'cancelFlight#1']],
    ['hotel', ['reserveFlight', 'reserveHotel', 'cancelHotel#1', 'cancelFlight#1']],
    ['car', ['reserveFlight', 'reserveHotel', 'reserveCar', 'cancelCar#1', 'cancelHotel#1', 'cancelFlight#1']],
    [
      'payment',
      [
        'reserveFlight',
        'reserveHotel',
        'reserveCar',
        'capturePayment',
        'refundPayment#1',
        'cancelCar#1',
        'cancelHotel#1',
        'cancelFlight#1',
      ],
    ],
  ];
  it.each(cases)('compensates in reverse order when the %s step fails', async (failAt, expected) => {
    const calls: Calls = [];
    const view = await runTrip(calls, { failAt });
    expect(view.status).toBe('COMPENSATED');
    expect(calls).toEqual([...expected, 'recordTripOutcome:COMPENSATED']);
    expect(view.reason?.step).toBe(failAt);
    expect(view.reason?.type).toBe(failAt === 'payment' ? FailureType.PaymentDeclined : FailureType.SoldOut);
  });

  // Not the step's own refusal (here: another run already undid the key): how far a lost
  // workflow task got is in doubt, so every step is undone, last first (step-calls.ts).
  it('undoes every step when a step fails for a reason other than its own refusal', async () => {
    const calls: Calls = [];
    const view = await runTrip(calls, { failAt: 'hotel', failType: FailureType.Tombstoned });
    expect(view.status).toBe('COMPENSATED');
    expect(calls).toEqual(['reserveFlight', 'reserveHotel', ...UNDO_EVERY_STEP, 'recordTripOutcome:COMPENSATED']);
    expect(view.steps.car.status).toBe('COMPENSATED');
    expect(view.reason).toMatchObject({ step: 'hotel', type: FailureType.Tombstoned });
  });

  it('retries a compensation that fails twice until it succeeds', async () => {
    const calls: Calls = [];
    const view = await runTrip(calls, { failAt: 'car', undoFailures: { hotel: 2 } });
    expect(view.status).toBe('COMPENSATED');
    expect(calls).toEqual([
      'reserveFlight',
      'reserveHotel',
      'reserveCar',
      'cancelCar#1',
      'cancelHotel#1',
      'cancelHotel#2',
      'cancelHotel#3',
      'cancelFlight#1',
      'recordTripOutcome:COMPENSATED',
    ]);
    expect(view.steps.hotel.status).toBe('COMPENSATED');
  });

  it('ends NEEDS_ATTENTION, still undoing the other steps, when a compensation can never succeed', async () => {
    const calls: Calls = [];
    const err = await runTrip(calls, { failAt: 'payment', undoRefused: 'hotel' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(FailureType.NeedsAttention);
    const view = cause.details?.[0] as TripView;
    expect(view.status).toBe('NEEDS_ATTENTION');
    expect(view.steps.hotel.status).toBe('COMPENSATION_FAILED');
    expect(view.steps.flight.status).toBe('COMPENSATED');
    expect(calls).toEqual([
      'reserveFlight',
      'reserveHotel',
      'reserveCar',
      'capturePayment',
      ...UNDO_EVERY_STEP,
      'recordTripOutcome:NEEDS_ATTENTION',
    ]);
  });

  // A lost workflow task may have booked steps this run never started (step-calls.ts): a cancel
  // undoes every step, last first, those not reached included.
  it('undoes every step when the user cancels mid-saga, those not reached yet included', async () => {
    const calls: Calls = [];
    const view = await withBlockedStep(calls, 'car', async (handle) => {
      const updated = await handle.executeUpdate(cancelTrip);
      expect(updated.status).toBe('CANCELLED');
      return handle.result();
    });
    expect(view.status).toBe('CANCELLED');
    expect(calls).toEqual([
      'reserveFlight',
      'reserveHotel',
      'reserveCar',
      ...UNDO_EVERY_STEP,
      'recordTripOutcome:CANCELLED',
    ]);
  });

  it('compensates every step and ends Cancelled when the run is cancelled through Temporal', async () => {
    const calls: Calls = [];
    const outcome = await withBlockedStep(calls, 'hotel', async (handle) => {
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      return { err, description: await handle.describe() };
    });
    expect(outcome.err).toBeInstanceOf(WorkflowFailedError);
    expect(outcome.description.status.name).toBe('CANCELLED');
    expect(calls).toEqual(['reserveFlight', 'reserveHotel', ...UNDO_EVERY_STEP, 'recordTripOutcome:CANCELLED']);
  });
});

describe('cancelConfirmedTrip', () => {
  it('undoes every step in reverse order and cannot be stopped half way by a cancel', async () => {
    const calls: Calls = [];
    const { worker, taskQueue } = await mockWorker(calls, { undoDelayMs: 150 });
    const confirmed: TripView = { ...(await runTrip([], {})), status: 'CONFIRMED' };
    const outcome = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(cancelConfirmedTrip, {
        taskQueue,
        workflowId: `cancel-${confirmed.tripId}`,
        args: [confirmed],
      });
      // Ask Temporal to cancel the cancellation while its first undo is running.
      await new Promise((r) => setTimeout(r, 50));
      await handle.cancel();
      return handle.result();
    });
    expect(outcome.status).toBe('CANCELLED');
    expect(Object.values(outcome.steps).map((s) => s.status)).toEqual([
      'COMPENSATED',
      'COMPENSATED',
      'COMPENSATED',
      'COMPENSATED',
    ]);
    expect(calls).toEqual([...UNDO_EVERY_STEP, 'recordTripOutcome:CANCELLED']);
  });
});
