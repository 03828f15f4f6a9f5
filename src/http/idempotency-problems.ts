/**
 * The problems of Idempotency-Key handling, one home for the API and the services: a missing or
 * invalid key, and a claim that may not run (key reused for another request, still in flight,
 * or tombstoned by a compensation that came first).
 */
import type { ClaimResult } from '../idempotency/store';
import { HttpProblem } from './problem';

export const missingKey = () =>
  new HttpProblem({
    status: 400,
    code: 'IDEMPOTENCY_KEY_MISSING',
    title: 'Idempotency-Key is required',
    detail: 'send an Idempotency-Key header (1-255 visible ASCII characters)',
  });

export const invalidKey = (reason: string) =>
  new HttpProblem({
    status: 400,
    code: 'IDEMPOTENCY_KEY_INVALID',
    title: 'Idempotency-Key is not valid',
    detail: reason,
  });

export const keyReused = (key: string, method: string, path: string) =>
  new HttpProblem({
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
    title: 'Idempotency-Key reused for a different request',
    detail: `key "${key}" was first used for ${method} ${path} with another body`,
  });

export const requestInFlight = (retryAfterSeconds: number) =>
  new HttpProblem({
    status: 409,
    code: 'REQUEST_IN_FLIGHT',
    title: 'A request with this Idempotency-Key is still being processed',
    detail: 'retry after the delay in Retry-After',
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

export const tombstoned = (key: string) =>
  new HttpProblem({
    status: 409,
    code: 'TOMBSTONED',
    title: 'This request was cancelled before it arrived',
    detail: `key "${key}" was compensated before its request arrived`,
  });

/** A claim that neither runs nor replays. */
export type RefusedClaim = Exclude<ClaimResult, { kind: 'claimed' | 'replay' }>;

/** The one mapping of a refused claim to its problem, for the API and the services alike. */
export function claimProblem(claim: RefusedClaim, key: string): HttpProblem {
  switch (claim.kind) {
    case 'mismatch':
      return keyReused(key, claim.method, claim.path);
    case 'in-flight':
      return requestInFlight(claim.retryAfterSeconds);
    case 'tombstoned':
      return tombstoned(key);
  }
}
