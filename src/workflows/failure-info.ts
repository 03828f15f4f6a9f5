/** Turns what an activity threw into the `{ type, message }` the trip view shows. */
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';

export function describeFailure(err: unknown): { type: string; message: string } {
  if (isCancellation(err)) return { type: 'Cancelled', message: 'cancelled' };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
