/**
 * The coordinator's side of the wire: one HTTP call to a participant, classified as an answer, a
 * definitive refusal (a problem below 500) or "no answer" (network error, timeout, 5xx), which
 * the caller may retry because every participant operation is idempotent per gid.
 */
import type { PhaseTwoAnswer, PrepareAnswer, PreparedList } from './protocol';

export type CallResult<T> =
  | { kind: 'answer'; body: T }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'no-answer'; message: string };

/** Counts every request sent (the "network round trips" of the compare bench). */
export interface CallCounter {
  calls: number;
}

export async function callParticipant<T>(
  counter: CallCounter,
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<CallResult<T>> {
  counter.calls++;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { kind: 'no-answer', message: (err as Error).message };
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.ok && parsed !== undefined) return { kind: 'answer', body: parsed as T };
  const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
  if (res.status >= 400 && res.status < 500) {
    return {
      kind: 'refused',
      status: res.status,
      code: problem.code ?? `HTTP_${res.status}`,
      message: problem.detail ?? problem.title ?? text,
    };
  }
  // A 503 saying prepared transactions are off is final; any other 5xx may pass.
  if (problem.code === 'PREPARED_TRANSACTIONS_UNAVAILABLE') {
    return { kind: 'refused', status: res.status, code: problem.code, message: problem.title ?? text };
  }
  return { kind: 'no-answer', message: `HTTP ${res.status} ${problem.code ?? ''}`.trim() };
}

export type { PhaseTwoAnswer, PrepareAnswer, PreparedList };
