/**
 * `book --wait`: follows a trip step by step until it ends. Each step transition is printed as
 * it happens; on a terminal a spinner line shows the step in progress, elsewhere plain lines only.
 */
import type { Client } from '@temporalio/client';
import { STEP_STATUS_RANK, type TripView } from '../shared/trip';
import { isTerminalStatus } from '../shared/trip-status';
import { readTrip, type TripSnapshot } from '../trips/trip-view';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK: Record<string, string> = {
  RUNNING: '…',
  DONE: '✔',
  FAILED: '✖',
  COMPENSATING: '↩',
  COMPENSATED: '↩',
  COMPENSATION_FAILED: '⚠',
};

export interface ProgressOutput {
  /** Writes raw text (no newline added). */
  write: (text: string) => void;
  /** True on a terminal: a spinner line is redrawn in place. */
  tty: boolean;
}

// A view read from a server is data, not a type guarantee: a status this build does not know
// ranks as PENDING instead of making every comparison false.
const rankOf = (status: string): number => (STEP_STATUS_RANK as Partial<Record<string, number>>)[status] ?? 0;

/**
 * The lines announcing what changed between two views of one trip. A poll can miss a short-lived
 * state; the outcome of the forward call (DONE or FAILED) is still printed before its compensation.
 */
export function transitions(before: TripView | undefined, after: TripView): string[] {
  const lines: string[] = [];
  // Compensations run in reverse step order: several seen in one poll are printed that way.
  const undos: string[] = [];
  const ended = isTerminalStatus(after.status);
  if (before?.status !== after.status && !ended) lines.push(`trip ${after.status}`);
  for (const [step, state] of Object.entries(after.steps)) {
    const old = before?.steps[step as keyof TripView['steps']];
    const from = rankOf(old?.status ?? 'PENDING');
    const to = rankOf(state.status);
    if (to <= from) continue;
    const line = (status: string, error?: { type: string; message: string }) => {
      const text = `  ${MARK[status] ?? ' '} ${step.padEnd(8)} ${status}${error ? `  (${error.type}: ${error.message})` : ''}`;
      if (rankOf(status) >= 3) undos.unshift(text);
      else lines.push(text);
    };
    if (from < 2 && to > 2) {
      const failed =
        after.reason?.step === step || (state.error !== undefined && state.status !== 'COMPENSATION_FAILED');
      line(failed ? 'FAILED' : 'DONE', failed ? state.error : undefined);
    }
    line(state.status, state.status === 'COMPENSATED' ? undefined : state.error);
  }
  return [...lines, ...undos, ...(before?.status !== after.status && ended ? [`trip ${after.status}`] : [])];
}

/** Polls the trip every `intervalMs`, printing transitions, and resolves with its final snapshot. */
export async function followTrip(
  client: Client,
  workflowId: string,
  out: ProgressOutput,
  intervalMs = 250,
): Promise<TripSnapshot> {
  let last: TripView | undefined;
  let frame = 0;
  const clear = () => out.tty && out.write('\r\x1b[2K');
  for (;;) {
    const snapshot = await readTrip(client, workflowId);
    const lines = transitions(last, snapshot.view);
    if (lines.length > 0) {
      clear();
      out.write(lines.map((l) => `${l}\n`).join(''));
    }
    last = snapshot.view;
    if (isTerminalStatus(snapshot.view.status) && snapshot.executionStatus !== 'RUNNING') {
      clear();
      return snapshot;
    }
    if (out.tty) {
      const running = Object.entries(snapshot.view.steps).find(
        ([, s]) => s.status === 'RUNNING' || s.status === 'COMPENSATING',
      );
      out.write(
        `\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${running ? `${running[0]} ${running[1].status.toLowerCase()}` : snapshot.view.status.toLowerCase()}…`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
