/**
 * The trip API: `buildApp(deps)` wires the routes to a Temporal client and the API's own database
 * (trips and idempotency keys); `server.ts` listens. Tests call `app.inject()`.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { IdempotencyStore } from '../idempotency/store';
import { createHttpApp } from '../services/http/app';
import { requireBearer } from './auth';
import { notReady } from './problems';
import { startPurgeJob, type PurgeJob } from '../idempotency/purge-job';
import { registerTripRoutes } from './trip-routes';

export interface ApiDeps {
  /** The API database (openApiDatabase): trips and idempotency_keys. */
  db: Db;
  temporalClient: Client;
  config: Pick<Config, 'temporal' | 'api'>;
  /** Bearer token → principal; defaults to config.api.tokens. */
  tokens?: Map<string, string>;
  /** Milliseconds since the epoch; tests move it to expire locks and keys. */
  clock?: () => number;
  logger?: boolean | { level: string };
}

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyStore: IdempotencyStore;
    purgeJob: PurgeJob | undefined;
  }
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);

export function buildApp(deps: ApiDeps): FastifyInstance {
  const { api, temporal } = deps.config;
  const app = createHttpApp({ logger: deps.logger });
  const store = new IdempotencyStore(deps.db, {
    lockTimeoutMs: api.idempotencyLockTimeoutMs,
    retentionMs: api.idempotencyRetentionMs,
    now: deps.clock,
  });
  app.decorate('idempotencyStore', store);
  app.decorate('purgeJob', undefined);
  app.addHook('onReady', async () => {
    app.purgeJob = startPurgeJob(store, api.idempotencyPurgeIntervalMs, app.log);
  });
  app.addHook('onClose', async () => app.purgeJob?.stop());

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    const probe = async (name: string, p: () => Promise<unknown>) => {
      try {
        await within(p(), 2000);
        checks[name] = 'ok';
      } catch (err) {
        checks[name] = (err as Error).message;
      }
    };
    await Promise.all([
      probe('database', () => deps.db.raw('select 1')),
      probe('temporal', () => deps.temporalClient.workflowService.getSystemInfo({})),
    ]);
    if (Object.values(checks).some((v) => v !== 'ok')) throw notReady(checks);
    return reply.send({ status: 'ready', checks });
  });

  // Everything about trips needs a principal; health probes and unknown routes do not.
  void app.register(async (scope) => {
    requireBearer(scope, deps.tokens ?? api.tokens);
    registerTripRoutes(scope, {
      db: deps.db,
      store,
      temporal: deps.temporalClient,
      taskQueue: temporal.taskQueue,
      maxWaitSeconds: Math.max(1, Math.min(60, Math.floor(api.idempotencyLockTimeoutMs / 2000))),
    });
  });
  return app;
}
