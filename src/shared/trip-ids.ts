/**
 * The limits every trip id must fit, and the one check of a workflow id and every key derived
 * from it (`<workflowId>:<step>`, `<workflowId>:<step>:undo`). The services enforce the same
 * constants, so an id that passes here is never refused by them halfway through a saga. Pure.
 */
import { STEPS, stepKey, undoKey, workflowIdFor } from './trip';

/** The longest trip id (= workflow id) the services accept in a body or an audit query. */
export const MAX_TRIP_ID_LENGTH = 200;
/** The longest Idempotency-Key the services and the trip API accept. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Visible ASCII: what the services accept in trip ids and idempotency keys. */
export const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** A trip id that the services would refuse, found before anything starts. */
export class TripIdError extends Error {
  constructor(
    readonly workflowId: string,
    readonly problems: string[],
  ) {
    super(`invalid trip id: ${problems.join('; ')}`);
    this.name = 'TripIdError';
  }
}

const shown = (id: string) => (id.length > 40 ? `${id.slice(0, 24)}…${id.slice(-8)}` : id);

/** What is wrong with a workflow id and the keys derived from it (empty: nothing). */
export function problemsWithWorkflowId(workflowId: string): string[] {
  const problems: string[] = [];
  if (workflowId.length === 0) return ['the trip id is empty'];
  if (workflowId.length > MAX_TRIP_ID_LENGTH) {
    problems.push(
      `workflow id ${shown(workflowId)} is ${workflowId.length} characters; at most ${MAX_TRIP_ID_LENGTH} characters are allowed (the services' limit on a trip id)`,
    );
  }
  if (!VISIBLE_ASCII.test(workflowId)) problems.push('the trip id must be visible ASCII characters only');
  for (const step of STEPS) {
    for (const key of [stepKey(workflowId, step), undoKey(workflowId, step)]) {
      if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
        problems.push(`key ${shown(key)} would be ${key.length} characters; at most ${MAX_IDEMPOTENCY_KEY_LENGTH}`);
      }
    }
  }
  return problems;
}

/** Throws TripIdError unless the services accept the workflow id and every key derived from it. */
export function assertValidWorkflowId(workflowId: string): string {
  const problems = problemsWithWorkflowId(workflowId);
  if (problems.length > 0) throw new TripIdError(workflowId, problems);
  return workflowId;
}

/** `trip-<id>` for a caller's id, checked against the services' limits. */
export const tripWorkflowId = (tripId: string): string =>
  assertValidWorkflowId(tripId === '' ? '' : workflowIdFor(tripId));
