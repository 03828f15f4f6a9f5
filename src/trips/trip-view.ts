/**
 * Reads a trip's view from Temporal, whatever state its run is in: the `getTrip` query while it
 * runs, the result once it completed, the failure details when it needs attention.
 */
import { type Client, type WorkflowHandle, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { initialView, type TripView } from '../shared/trip';
import { bookTrip, getTrip } from '../workflows';

export class TripNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`no trip ${workflowId}`);
    this.name = 'TripNotFoundError';
  }
}

export interface TripSnapshot {
  view: TripView;
  /** Temporal's own status of the run: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED… */
  executionStatus: string;
  runId: string;
}

async function viewOfClosedRun(
  handle: WorkflowHandle<typeof bookTrip>,
  workflowId: string,
  status: string,
): Promise<TripView> {
  if (status === 'COMPLETED') return handle.result();
  if (status === 'FAILED') {
    try {
      await handle.result();
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      const details = cause instanceof ApplicationFailure ? cause.details : undefined;
      const view = details?.[0] as TripView | undefined;
      if (view?.status) return view;
    }
  }
  // Cancelled by Temporal (compensated before it closed), terminated or timed out: ask the
  // history through a query, which a worker answers by replaying it.
  try {
    return await handle.query(getTrip);
  } catch {
    return {
      ...initialView(workflowId),
      status: 'NEEDS_ATTENTION',
      reason: { type: status, message: `run ended ${status}` },
    };
  }
}

/** The current view of a trip; throws TripNotFoundError for an unknown workflow id. */
export async function readTrip(client: Client, workflowId: string): Promise<TripSnapshot> {
  const handle = client.workflow.getHandle<typeof bookTrip>(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new TripNotFoundError(workflowId);
    throw err;
  }
  const executionStatus = description.status.name;
  const view =
    executionStatus === 'RUNNING'
      ? await handle.query(getTrip)
      : await viewOfClosedRun(handle, workflowId, executionStatus);
  return { view, executionStatus, runId: description.runId };
}

/** The Web UI page of a run. */
export function runUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
