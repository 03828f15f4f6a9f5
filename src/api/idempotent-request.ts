/**
 * Idempotency-Key at the API's edge. Unlike the services, the work here is a call to Temporal, not
 * a write in our database, so the claim is its own short statement (no long transaction): claim →
 * run → complete. The run must itself be safe to repeat (deterministic workflow ids), because a
 * process that dies after the claim leaves a lock that a retry takes over once it expires.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fingerprintOf } from '../idempotency/fingerprint';
import { parseIdempotencyKey } from '../idempotency/key';
import { type IdempotencyStore, type StoredResponse, toResponse } from '../idempotency/store';
import { sendStored } from '../http/idempotent-route';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from '../http/problem';
import { claimProblem, invalidKey, missingKey } from '../http/idempotency-problems';

/** The key of a request: undefined when absent and optional; throws the 400 problems. */
export function requestKey(request: FastifyRequest, required: boolean): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined && !required) return undefined;
  if (raw === undefined) throw missingKey();
  const parsed = parseIdempotencyKey(raw);
  if (!parsed.ok) throw invalidKey(parsed.reason);
  return parsed.key;
}

export interface IdempotentRun {
  store: IdempotencyStore;
  principal: string;
  /** undefined: no key was sent (optional-key routes), so the run is not recorded. */
  key: string | undefined;
  /** Does the work; a thrown HttpProblem below 500 is the stored outcome, anything else abandons the key. */
  execute(): Promise<StoredResponse>;
}

/** A JSON response as stored: exactly the bytes the first caller got. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): StoredResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

function problemResponse(problem: HttpProblem): StoredResponse {
  return {
    status: problem.status,
    headers: { ...problem.headers, 'content-type': PROBLEM_CONTENT_TYPE },
    body: JSON.stringify(problem.toBody()),
  };
}

export async function runIdempotent(
  request: FastifyRequest,
  reply: FastifyReply,
  run: IdempotentRun,
): Promise<FastifyReply> {
  const { store, principal, key } = run;
  const attempt = async () => {
    try {
      return await run.execute();
    } catch (err) {
      if (err instanceof HttpProblem && err.status < 500) return problemResponse(err);
      throw err;
    }
  };
  if (key === undefined) return sendStored(reply, await attempt(), false);

  const path = request.url.split('?')[0] ?? request.url;
  const fingerprint = fingerprintOf(request.method, path, request.body ?? null);
  const claim = await store.claim({ scope: principal, key, method: request.method, path, fingerprint });
  if (claim.kind === 'replay') return sendStored(reply, claim.response, true);
  if (claim.kind !== 'claimed') throw claimProblem(claim, key);
  let response: StoredResponse;
  try {
    response = await attempt();
  } catch (err) {
    // The work may have had effects (a trip started): keep the key, so another body is still
    // refused, but free its lock so a retry of this same request takes over at once.
    await store
      .abandon(principal, key, claim.token)
      .catch((e: unknown) => request.log.error({ err: e }, 'could not abandon an idempotency key'));
    throw err;
  }
  if (await store.complete(principal, key, response, undefined, claim.token)) return sendStored(reply, response, false);
  // A successor took the key over meanwhile: answer what it stored, so every reply has the same bytes.
  const record = await store.find(principal, key);
  if (record?.response_status != null) return sendStored(reply, toResponse(record), true);
  return sendStored(reply, response, false);
}
