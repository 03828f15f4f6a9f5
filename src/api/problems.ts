/** The trip API's problem documents (RFC 9457): one stable `type`/`code` per client mistake. */
import { HttpProblem } from '../http/problem';

export const missingKey = () =>
  new HttpProblem(
    400,
    'IDEMPOTENCY_KEY_MISSING',
    'Idempotency-Key is required',
    'send an Idempotency-Key header (1-255 visible ASCII characters)',
  );

export const invalidKey = (reason: string) =>
  new HttpProblem(400, 'IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key is not valid', reason);

export const keyReused = (key: string, method: string, path: string) =>
  new HttpProblem(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    'Idempotency-Key reused for a different request',
    `key "${key}" was first used for ${method} ${path} with another body`,
  );

export const requestInFlight = (retryAfterSeconds: number) =>
  new HttpProblem(
    409,
    'REQUEST_IN_FLIGHT',
    'A request with this Idempotency-Key is still being processed',
    'retry after the delay in Retry-After',
    {},
    {
      'retry-after': String(retryAfterSeconds),
    },
  );

export const validationFailed = (errors: string[]) =>
  new HttpProblem(400, 'VALIDATION_FAILED', 'The request is not valid', errors.join('; '), { errors });

export const unauthorized = (detail: string) =>
  new HttpProblem(
    401,
    'UNAUTHORIZED',
    'A valid bearer token is required',
    detail,
    {},
    { 'www-authenticate': 'Bearer realm="trip-api"' },
  );

export const tripNotFound = (tripId: string) =>
  new HttpProblem(404, 'TRIP_NOT_FOUND', 'No such trip', `no trip ${tripId} for this caller`);

export const tripAlreadyEnded = (tripId: string, status: string) =>
  new HttpProblem(409, 'TRIP_ALREADY_ENDED', 'The trip can no longer be cancelled', `trip ${tripId} is ${status}`, {
    tripStatus: status,
  });

export const notReady = (checks: Record<string, string>) =>
  new HttpProblem(503, 'NOT_READY', 'A dependency is unreachable', undefined, { checks });

export const cancelNotAccepted = (tripId: string) =>
  new HttpProblem(
    503,
    'CANCEL_NOT_ACCEPTED',
    'The cancellation was not accepted in time',
    `trip ${tripId} did not take the cancellation within the wait; retry (with the same Idempotency-Key)`,
    {},
    { 'retry-after': '1' },
  );

export const flavorUnavailable = (flavor: string, why: string) =>
  new HttpProblem(422, 'FLAVOR_UNAVAILABLE', 'This saga flavour is not available here', why, { flavor });

export const tripIdTaken = (tripId: string, flavor: string) =>
  new HttpProblem(
    409,
    'TRIP_ID_TAKEN',
    'The trip id belongs to a trip of another flavour',
    `trip ${tripId} is ${flavor}`,
    {
      flavor,
    },
  );

export const cancelNotSupported = (tripId: string, flavor: string) =>
  new HttpProblem(
    409,
    'CANCEL_NOT_SUPPORTED',
    'This trip cannot be cancelled',
    `trip ${tripId} is ${flavor}: only orchestrated trips can be cancelled`,
    { flavor },
  );
