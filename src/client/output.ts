/** How the client prints a trip: one JSON object with --json, readable lines otherwise. */
import type { TripView } from '../shared/trip';

export function tripJson(view: TripView, extra: Record<string, unknown> = {}): string {
  const { tripId, workflowId, status, steps, reason } = view;
  return JSON.stringify({ tripId, workflowId, status, steps, ...(reason ? { reason } : {}), ...extra });
}

export function tripLines(view: TripView): string[] {
  const lines = [`trip ${view.tripId}: ${view.status}`];
  for (const [step, state] of Object.entries(view.steps)) {
    lines.push(
      `  ${step.padEnd(8)} ${state.status}${state.error ? `  (${state.error.type}: ${state.error.message})` : ''}`,
    );
  }
  if (view.reason)
    lines.push(
      `  reason: ${view.reason.step ? `${view.reason.step}: ` : ''}${view.reason.type}: ${view.reason.message}`,
    );
  return lines;
}

/** A fixed-width table for `list`. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
