/**
 * Trips on Temporal, for the trip API and the client script alike: deterministic workflow ids,
 * starts that attach to an existing run instead of starting a second one, bounded reads of a
 * trip's view and the two ways to cancel.
 */
import { createHash } from 'node:crypto';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { cancellationWorkflowId, type TripRequest, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus } from '../shared/trip-status';
import { cancellationStartOptions, tripStartOptions } from './start-options';
import { readTrip, TripNotFoundError } from './trip-view';
import { bookTrip, cancelConfirmedTrip, cancelTrip } from '../workflows';

/** `trip-<hash>` of (principal, key): a retry of a crashed request finds the run it started. */
export function tripIdFor(principal: string, key: string): string {
  return `trip-${createHash('sha256').update(`${principal}\n${key}`).digest('hex').slice(0, 32)}`;
}

// REJECT_DUPLICATE: a closed run is never started again; USE_EXISTING: a running one is returned.
const ONCE = { workflowIdReusePolicy: 'REJECT_DUPLICATE', workflowIdConflictPolicy: 'USE_EXISTING' } as const;

const isAlreadyStarted = (err: unknown) => err instanceof WorkflowExecutionAlreadyStartedError;

/**
 * The one way a trip starts (trip API, client script, launcher): `bookTrip` under `tripId` (its
 * workflow id, `trip-…`) with the start options of start-options.ts, or nothing when that id
 * already has a run: a running one is attached to, a closed one is never started again.
 * `started` says which happened.
 * `principal` goes into the run's memo, so the worker's end record names the owner even when
 * the caller dies before recording the trip.
 */
export async function startBookTrip(
  client: Client,
  taskQueue: string,
  tripId: string,
  request: TripRequest,
  principal?: string,
): Promise<{ started: boolean }> {
  try {
    await client.workflow.start(bookTrip, {
      ...tripStartOptions(request, tripId, taskQueue, principal),
      args: [request],
      ...ONCE,
    });
    return { started: true };
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
    return { started: false };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` with an abort at `ms` and resolves undefined when time ran out (the one timeout
 * helper). `fn` gets the abort signal: Temporal calls run under it (see `temporalCall`), so
 * nothing keeps polling or retrying behind the caller's back; work that ignores the signal is
 * simply no longer waited for.
 */
export async function withDeadline<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T | undefined> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([fn(abort.signal), expired]);
  } catch (err) {
    if (abort.signal.aborted) return undefined;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** `fn`'s Temporal calls under the deadline's signal. */
const temporalCall =
  <T>(client: Client, fn: () => Promise<T>) =>
  (signal: AbortSignal) =>
    client.withAbortSignal(signal, fn);

/** The view of a workflow, or undefined when Temporal does not know it or cannot answer in time. */
export async function readView(client: Client, workflowId: string, timeoutMs = 3000): Promise<TripView | undefined> {
  try {
    const read = () => readTrip(client, workflowId);
    return (await withDeadline(temporalCall(client, read), timeoutMs))?.view;
  } catch (err) {
    if (err instanceof TripNotFoundError) return undefined;
    throw err;
  }
}

/** Polls the run until it closes or `waitMs` passes, then reads its view. */
export async function waitForClose(client: Client, workflowId: string, waitMs: number): Promise<TripView | undefined> {
  const deadline = Date.now() + waitMs;
  const handle = client.workflow.getHandle(workflowId);
  for (let pause = 50; Date.now() < deadline; pause = Math.min(pause * 2, 500)) {
    if ((await handle.describe()).status.name !== 'RUNNING') break;
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
  }
  return readView(client, workflowId);
}

export const isTerminal = (view: TripView): boolean => isTerminalStatus(view.status);

/**
 * Cancels a trip that is still booking through the `cancel` update, all of it (the SDK re-sends
 * until a worker accepts) within `waitMs`. Returns undefined when the run refused (it moved past
 * BOOKING meanwhile) or closed, so the caller re-reads and decides again.
 */
export async function cancelRunningTrip(client: Client, tripId: string, waitMs: number): Promise<TripView | undefined> {
  const handle = client.workflow.getHandle<typeof bookTrip>(tripId);
  const cancel = async () => {
    const update = await handle.startUpdate(cancelTrip, { waitForStage: WorkflowUpdateStage.ACCEPTED });
    return update.result();
  };
  try {
    return (await withDeadline(temporalCall(client, cancel), waitMs)) ?? (await readView(client, tripId));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Starts (or attaches to) the one cancellation of a confirmed trip and waits up to `waitMs`. */
export async function cancelConfirmed(
  client: Client,
  taskQueue: string,
  confirmed: TripView,
  waitMs: number,
): Promise<TripView> {
  const options = cancellationStartOptions(confirmed, taskQueue);
  try {
    await client.workflow.start(cancelConfirmedTrip, { ...options, args: [confirmed], ...ONCE });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
  }
  return (await waitForClose(client, options.workflowId, waitMs)) ?? { ...confirmed, status: 'CANCELLING' };
}

/** The view of a trip whose cancellation may have been started (undefined: no cancellation). */
export function readCancellation(client: Client, tripId: string): Promise<TripView | undefined> {
  return readView(client, cancellationWorkflowId(tripId));
}

/**
 * Cancels a trip in whatever state it is: the `cancel` update while it books, the one
 * cancellation run once it is confirmed (refund included). Returns the view afterwards; a trip
 * that ended otherwise comes back unchanged, for the caller to refuse.
 */
export async function cancelAnyTrip(
  client: Client,
  taskQueue: string,
  current: TripView,
  waitMs: number,
): Promise<TripView> {
  let view = current;
  if (isBookingStatus(view.status)) {
    view = (await cancelRunningTrip(client, view.tripId, waitMs)) ?? (await readView(client, view.tripId)) ?? view;
  }
  if (view.status === 'CONFIRMED') view = await cancelConfirmed(client, taskQueue, view, waitMs);
  return view;
}

/** True when the view is the outcome of a cancellation (in progress or done). */
export const endedByCancel = (view: TripView): boolean =>
  view.status === 'CANCELLING' || view.status === 'CANCELLED' || view.reason?.type === 'Cancelled';
