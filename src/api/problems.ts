/**
 * The trip API's own problem documents (RFC 9457): one stable `type`/`code` per client mistake.
 * Idempotency-Key problems are shared with the services (src/http/idempotency-problems.ts).
 */
import { HttpProblem } from '../http/problem';

export const validationFailed = (errors: string[]) =>
  new HttpProblem({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'The request is not valid',
    detail: errors.join('; '),
    extra: { errors },
  });

export const unauthorized = (detail: string) =>
  new HttpProblem({
    status: 401,
    code: 'UNAUTHORIZED',
    title: 'A valid bearer token is required',
    detail,
    headers: { 'www-authenticate': 'Bearer realm="trip-api"' },
  });

export const tripNotFound = (tripId: string) =>
  new HttpProblem({
    status: 404,
    code: 'TRIP_NOT_FOUND',
    title: 'No such trip',
    detail: `no trip ${tripId} for this caller`,
  });

export const tripAlreadyEnded = (tripId: string, status: string) =>
  new HttpProblem({
    status: 409,
    code: 'TRIP_ALREADY_ENDED',
    title: 'The trip can no longer be cancelled',
    detail: `trip ${tripId} is ${status}`,
    extra: { tripStatus: status },
  });

/** 503 naming the dependencies that are down (`checks`: name → 'ok' | 'unavailable'), nothing more. */
export const notReady = (checks: Record<string, string>) =>
  new HttpProblem({
    status: 503,
    code: 'NOT_READY',
    title: 'Not ready',
    detail: `unavailable: ${Object.keys(checks)
      .filter((name) => checks[name] !== 'ok')
      .join(', ')}`,
    extra: { checks },
  });

export const cancelNotAccepted = (tripId: string) =>
  new HttpProblem({
    status: 503,
    code: 'CANCEL_NOT_ACCEPTED',
    title: 'The cancellation was not accepted in time',
    detail: `trip ${tripId} did not take the cancellation within the wait; retry (with the same Idempotency-Key)`,
    headers: { 'retry-after': '1' },
  });

export const flavorUnavailable = (flavor: string, why: string) =>
  new HttpProblem({
    status: 422,
    code: 'FLAVOR_UNAVAILABLE',
    title: 'This saga flavour is not available here',
    detail: why,
    extra: { flavor },
  });

export const tripIdTaken = (tripId: string, flavor: string) =>
  new HttpProblem({
    status: 409,
    code: 'TRIP_ID_TAKEN',
    title: 'The trip id belongs to a trip of another flavour',
    detail: `trip ${tripId} is ${flavor}`,
    extra: { flavor },
  });

export const cancelNotSupported = (tripId: string, flavor: string) =>
  new HttpProblem({
    status: 409,
    code: 'CANCEL_NOT_SUPPORTED',
    title: 'This trip cannot be cancelled',
    detail: `trip ${tripId} is ${flavor}: only orchestrated trips can be cancelled`,
    extra: { flavor },
  });
