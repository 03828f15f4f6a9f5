/**
 * A booking service as a two-phase-commit participant: POST /2pc/prepare runs the same business
 * operation as the saga's forward call inside a transaction and PREPAREs it (its row locks stay
 * held by PostgreSQL, across restarts of this process, until phase 2); POST /2pc/commit and
 * /2pc/rollback finish it from any session; GET /2pc/prepared lists what is in doubt here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { BookingServiceName } from '../config';
import { injectedDelay, roll } from '../http/faults';
import type { ServiceContext } from '../http/idempotent-route';
import { HttpProblem, injectedFault, sendProblem } from '../http/problem';
import { notifyOutbox } from '../outbox/append-event';
import { assertPreparedTransactions, TwoPhaseUnavailableError } from '../twophase/availability';
import {
  GID_PREFIX,
  parseGid,
  TWO_PHASE_PROBLEMS,
  type PhaseTwoAnswer,
  type PrepareAnswer,
  type PreparedList,
} from '../twophase/protocol';
import { CATALOGS, type InventoryCatalog } from './booking/catalog';
import { parseReservation, reserveInventory } from './booking/inventory-app';
import { captureCharge, parseCharge } from './payment/payment-app';

/** How long a prepare waits for a row lock (another trip's prepared transaction) before voting no. */
export const PREPARE_LOCK_TIMEOUT_MS = 5_000;

const prepareBody = z.object({ gid: z.string().min(1).max(200), request: z.record(z.string(), z.unknown()) });
const phaseTwoBody = z.object({ gid: z.string().min(1).max(200) });

const pgCode = (err: unknown) => (err as { code?: string }).code;
/** PostgreSQL's undefined_object: what COMMIT/ROLLBACK PREPARED raise when no transaction has that gid. */
const UNDEFINED_OBJECT = '42704';

const PHASE_TWO_STATEMENT = { commit: 'COMMIT PREPARED', rollback: 'ROLLBACK PREPARED' } as const;

async function isPrepared(db: Knex, gid: string): Promise<boolean> {
  const r = await db.raw<{ rows: unknown[] }>(
    'SELECT 1 FROM pg_prepared_xacts WHERE gid = ? AND database = current_database()',
    [gid],
  );
  return r.rows.length > 0;
}

export function registerTwoPhaseRoutes(app: FastifyInstance, ctx: ServiceContext, name: BookingServiceName): void {
  const table = name === 'payment' ? 'charges' : 'reservations';
  const catalog = name === 'payment' ? undefined : (CATALOGS[name] as unknown as InventoryCatalog<object>);
  const committed = async (key: string) => Boolean(await ctx.db(table).where({ idempotency_key: key }).first());
  let available: Promise<void> | undefined;

  /** The gid of a request, which must name this service's step. */
  function gidOf(gid: string) {
    const parsed = parseGid(gid);
    if (!parsed || parsed.step !== name) {
      throw new HttpProblem({
        status: 400,
        code: TWO_PHASE_PROBLEMS.invalidGid,
        title: 'Not a transaction id of this service',
        detail: gid,
      });
    }
    return parsed;
  }

  /** Runs a 2PC handler with the service's injected faults (error/delay before, lost reply after). */
  async function withFaults<T>(request: FastifyRequest, reply: FastifyReply, handle: () => Promise<T>) {
    if (roll(ctx.faults.error)) {
      return sendProblem(reply, injectedFault());
    }
    await injectedDelay(ctx.faults);
    available ??= assertPreparedTransactions(ctx.db).catch((err: unknown) => {
      available = undefined;
      throw err;
    });
    try {
      await available;
    } catch (err) {
      if (!(err instanceof TwoPhaseUnavailableError)) throw err;
      return sendProblem(
        reply,
        new HttpProblem({ status: 503, code: TWO_PHASE_PROBLEMS.unavailable, title: err.message }),
      );
    }
    const body = await handle();
    if (roll(ctx.faults.lost)) {
      ctx.stats.lostReplies++;
      request.log.warn('injected fault: dropping the connection after a 2PC step');
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    return reply.send(body);
  }

  /**
   * Phase two of the transaction a commit or rollback request names: runs COMMIT or ROLLBACK
   * PREPARED on its gid and answers `done`; when nothing is prepared under the gid, answers
   * `nothingPrepared`, told whether the step's booking was committed.
   */
  async function finishPrepared(
    body: unknown,
    phase: 'commit' | 'rollback',
    answers: {
      done: (gid: string) => Promise<PhaseTwoAnswer>;
      nothingPrepared: (gid: string, wasCommitted: boolean) => PhaseTwoAnswer;
    },
  ): Promise<PhaseTwoAnswer> {
    const parsed = phaseTwoBody.safeParse(body);
    if (!parsed.success)
      throw new HttpProblem({ status: 400, code: 'INVALID_REQUEST', title: `Invalid ${phase} request` });
    const { gid } = parsed.data;
    const { key } = gidOf(gid);
    try {
      await ctx.db.raw(`${PHASE_TWO_STATEMENT[phase]} '${gid}'`);
    } catch (err) {
      if (pgCode(err) !== UNDEFINED_OBJECT) throw err;
      return answers.nothingPrepared(gid, await committed(key));
    }
    return answers.done(gid);
  }

  async function prepare(gid: string, key: string, body: Record<string, unknown>): Promise<PrepareAnswer> {
    if (await isPrepared(ctx.db, gid)) return { vote: 'YES', gid, state: 'PREPARED' };
    if (await committed(key)) return { vote: 'YES', gid, state: 'COMMITTED' };
    const no = (err: HttpProblem): PrepareAnswer => ({
      vote: 'NO',
      gid,
      error: { type: err.code, message: err.message },
    });
    try {
      const work = catalog
        ? { kind: 'reservation' as const, catalog, input: await parseReservation(ctx.db, catalog, body) }
        : { kind: 'charge' as const, req: parseCharge(body) };
      await ctx.db.transaction(async (trx) => {
        await trx.raw(`SET LOCAL lock_timeout = '${PREPARE_LOCK_TIMEOUT_MS}ms'`);
        // NOTIFY may not be PREPAREd: the relay is woken after COMMIT PREPARED instead.
        if (work.kind === 'charge') await captureCharge(trx, work.req, key, { notify: false });
        else await reserveInventory(trx, work.catalog, work.input, key, { notify: false });
        // The transaction leaves this session here; knex's COMMIT that follows is a no-op.
        await trx.raw(`PREPARE TRANSACTION '${gid}'`);
      });
    } catch (err) {
      if (err instanceof HttpProblem && err.status < 500) return no(err);
      // A concurrent attempt with the same gid (a retry after a lost reply) won the race.
      if (await isPrepared(ctx.db, gid)) return { vote: 'YES', gid, state: 'PREPARED' };
      if (pgCode(err) === '55P03') {
        return no(
          new HttpProblem({
            status: 409,
            code: 'LOCK_TIMEOUT',
            title: 'Inventory locked',
            detail: 'another trip holds this inventory',
          }),
        );
      }
      throw err;
    }
    return { vote: 'YES', gid, state: 'PREPARED' };
  }

  app.post('/2pc/prepare', (request, reply) =>
    withFaults(request, reply, async () => {
      const parsed = prepareBody.safeParse(request.body);
      if (!parsed.success)
        throw new HttpProblem({ status: 400, code: 'INVALID_REQUEST', title: 'Invalid prepare request' });
      const { key, tripId } = gidOf(parsed.data.gid);
      if (parsed.data.request.tripId !== tripId) {
        throw new HttpProblem({
          status: 400,
          code: TWO_PHASE_PROBLEMS.invalidGid,
          title: 'The gid names another trip',
          detail: parsed.data.gid,
        });
      }
      return prepare(parsed.data.gid, key, parsed.data.request);
    }),
  );

  app.post('/2pc/commit', (request, reply) =>
    withFaults(request, reply, () =>
      finishPrepared(request.body, 'commit', {
        done: async (gid) => {
          await notifyOutbox(ctx.db);
          return { gid, outcome: 'COMMITTED' };
        },
        // Committed by an earlier attempt whose reply was lost, or never prepared.
        nothingPrepared: (gid, wasCommitted) => {
          if (wasCommitted) return { gid, outcome: 'ALREADY_COMMITTED' };
          throw new HttpProblem({
            status: 409,
            code: TWO_PHASE_PROBLEMS.notPrepared,
            title: 'Nothing prepared to commit',
            detail: gid,
          });
        },
      }),
    ),
  );

  app.post('/2pc/rollback', (request, reply) =>
    withFaults(request, reply, () =>
      finishPrepared(request.body, 'rollback', {
        done: async (gid) => ({ gid, outcome: 'ROLLED_BACK' }),
        nothingPrepared: (gid, wasCommitted) => {
          if (wasCommitted) {
            throw new HttpProblem({
              status: 409,
              code: TWO_PHASE_PROBLEMS.alreadyCommitted,
              title: 'Already committed',
              detail: gid,
            });
          }
          return { gid, outcome: 'NOTHING_PREPARED' };
        },
      }),
    ),
  );

  app.get('/2pc/prepared', (request, reply) =>
    withFaults(request, reply, async (): Promise<PreparedList> => {
      const r = await ctx.db.raw<{ rows: Array<{ gid: string; prepared: Date }> }>(
        "SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ? || '%'",
        [GID_PREFIX],
      );
      const mine = r.rows.filter((row) => parseGid(row.gid)?.step === name);
      return { prepared: mine.map((row) => ({ gid: row.gid, preparedAt: new Date(row.prepared).toISOString() })) };
    }),
  );
}
