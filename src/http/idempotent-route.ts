/**
 * Runs a state-changing service request exactly once per Idempotency-Key: the claim, the business
 * writes and the stored response commit in one transaction, so a retry after any crash either
 * finds nothing (and runs) or replays the committed answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import { fingerprintOf } from '../idempotency/fingerprint';
import { withSpan } from '../observability/trace-context';
import { parseIdempotencyKey } from '../idempotency/key';
import type { ClaimRequest, IdempotencyStore, StoredResponse } from '../idempotency/store';
import { type Faults, injectedDelay, roll } from './faults';
import { claimProblem, invalidKey } from './idempotency-problems';
import { HttpProblem, injectedFault, PROBLEM_CONTENT_TYPE, sendProblem } from './problem';

export interface ServiceContext {
  db: Knex;
  store: IdempotencyStore;
  /** The key scope: internal callers share one per service. */
  scope: string;
  faults: Faults;
  /** Counters of what happened to requests (read by chaos tests and logs). */
  stats: ServiceStats;
}

export interface ServiceStats {
  /** HTTP requests received, any route (the compare bench's network round trips). */
  requests: number;
  executed: number;
  replayed: number;
  lostReplies: number;
}

export const newServiceStats = (): ServiceStats => ({ requests: 0, executed: 0, replayed: 0, lostReplies: 0 });

export interface IdempotentHandler<T> {
  /** Validates the body; throws HttpProblem (400/422). Nothing is stored for a rejected request. */
  parse(body: unknown, db: Knex): Promise<T> | T;
  /** Does the work inside the transaction; a thrown HttpProblem below 500 is the stored outcome. */
  execute(input: T, trx: Knex.Transaction, key: string): Promise<{ status: number; body: unknown }>;
}

const dbSystemOf = (db: Knex) => (dialectOf(db) === 'pg' ? 'postgresql' : 'sqlite');

export const REPLAYED_HEADER = 'idempotent-replayed';

export function sendStored(reply: FastifyReply, response: StoredResponse, replayed: boolean): FastifyReply {
  reply.code(response.status).headers(response.headers);
  if (replayed) reply.header(REPLAYED_HEADER, 'true');
  return reply.send(response.body);
}

function toStored(status: number, body: unknown, contentType = 'application/json; charset=utf-8'): StoredResponse {
  return { status, headers: { 'content-type': contentType }, body: JSON.stringify(body) };
}

/** The fastify handler body for one idempotent route. */
export async function handleIdempotent<T>(
  ctx: ServiceContext,
  request: FastifyRequest,
  reply: FastifyReply,
  handler: IdempotentHandler<T>,
): Promise<FastifyReply> {
  if (roll(ctx.faults.error)) {
    return sendProblem(reply, injectedFault());
  }
  await injectedDelay(ctx.faults);

  const parsedKey = parseIdempotencyKey(request.headers['idempotency-key']);
  if (!parsedKey.ok) return sendProblem(reply, invalidKey(parsedKey.reason));
  const key = parsedKey.key;
  const input = await handler.parse(request.body, ctx.db);
  const path = request.routeOptions.url ?? request.url;
  const fingerprint = fingerprintOf(request.method, path, request.body);

  const claim = { scope: ctx.scope, key, method: request.method, path, fingerprint };
  const outcome = await withSpan(
    'db transaction',
    { attributes: { 'db.system': dbSystemOf(ctx.db) } },
    async (span) => {
      const done = await ctx.db.transaction((trx) =>
        executeOnce(ctx, trx, claim, (inner) => handler.execute(input, inner, key)),
      );
      span.setAttribute('idempotency.replayed', done.replayed);
      return done;
    },
  );

  if (outcome.replayed) ctx.stats.replayed++;
  else ctx.stats.executed++;
  if (!outcome.replayed && roll(ctx.faults.lost)) {
    ctx.stats.lostReplies++;
    // Committed, but the caller never hears: it cannot tell success from failure.
    request.log.warn({ key }, 'injected fault: dropping the connection after commit');
    reply.hijack();
    request.raw.socket.destroy();
    return reply;
  }
  return sendStored(reply, outcome.response, outcome.replayed);
}

/**
 * The claim, the business writes and the stored response of one key inside the caller's
 * transaction (`trx`): the HTTP route runs it alone, an event consumer next to its inbox row and
 * outbox event. Throws HttpProblem when the key is tombstoned, reused or in flight.
 */
export async function executeOnce(
  ctx: Pick<ServiceContext, 'store' | 'scope'>,
  trx: Knex.Transaction,
  claimRequest: ClaimRequest,
  execute: (inner: Knex.Transaction) => Promise<{ status: number; body: unknown }>,
): Promise<{ response: StoredResponse; replayed: boolean }> {
  const { key } = claimRequest;
  const claim = await ctx.store.claim(claimRequest, trx);
  if (claim.kind === 'replay') return { response: claim.response, replayed: true };
  if (claim.kind !== 'claimed') throw claimProblem(claim, key);
  let response: StoredResponse;
  try {
    // A savepoint: a business refusal rolls back its own writes but keeps the claim, so the
    // refusal itself is what every retry of this key replays.
    const result = await trx.transaction((inner) => execute(inner));
    response = toStored(result.status, result.body);
  } catch (err) {
    if (!(err instanceof HttpProblem) || err.status >= 500) throw err;
    response = toStored(err.status, err.toBody(), PROBLEM_CONTENT_TYPE);
  }
  await ctx.store.complete(ctx.scope, key, response, trx);
  return { response, replayed: false };
}
