/**
 * What the fuzzer holds every answer to: no 5xx, every error (4xx) an application/problem+json
 * document whose `status` matches, and no write caused by a refused request.
 */
import type { RawResponse } from '../raw-http';

/**
 * Refusals that are a request's stored outcome by design (the Idempotency-Key record keeps
 * them, so a retry replays the refusal): the only 4xx answers allowed to write.
 */
export const STORED_REFUSALS = new Set(['SOLD_OUT', 'PAYMENT_DECLINED', 'TRIP_ALREADY_ENDED']);

/** Why this answer breaks the error contract, or undefined when it keeps it. */
export function contractViolation(method: string, res: RawResponse): string | undefined {
  if (!(res.status >= 100 && res.status < 600)) return `unparseable status ${res.status}`;
  if (res.status >= 500) return `${res.status} server error`;
  if (res.status < 400) return undefined;
  const contentType = res.headers['content-type'] ?? '';
  if (!/^application\/problem\+json(;|$)/i.test(contentType)) return `${res.status} with content-type "${contentType}"`;
  if (method.trim().toUpperCase() === 'HEAD') return undefined;
  let body: { status?: unknown; code?: unknown; type?: unknown; title?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    return `${res.status} problem body is not JSON`;
  }
  if (body.status !== res.status) return `problem status ${String(body.status)} on a ${res.status} response`;
  if (typeof body.code !== 'string' || typeof body.type !== 'string' || typeof body.title !== 'string') {
    return `${res.status} problem without code/type/title`;
  }
  return undefined;
}

/** The problem code of a 4xx answer (undefined if none), to tell refusals from stored outcomes. */
export function problemCode(res: RawResponse): string | undefined {
  try {
    const code = (JSON.parse(res.body) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** True when the answer refused the request (no write allowed). */
export const isRefusal = (res: RawResponse): boolean => {
  if (res.status < 400) return false;
  const code = problemCode(res);
  return code === undefined || !STORED_REFUSALS.has(code);
};
