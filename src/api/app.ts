/**
 * The trip API: `buildApp(deps)` wires the routes to a Temporal client and the API's own database
 * (trips and idempotency keys); `server.ts` listens. Tests call `app.inject()`.
 */
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import { IdempotencyStore } from '../idempotency/store';
import { createHttpApp } from '../http/app';
import { installHttpMetrics } from '../observability/http-metrics';
import { requireBearer } from './auth';
import { notReady } from './problems';
import { startPurgeJob, type PurgeJob } from '../idempotency/purge-job';
import { registerTripRoutes } from './trip-routes';
import { registerCodecRoutes } from './codec-routes';
import { withDeadline } from '../trips/trip-workflows';
import { maxParamLengthOf, registerOpenApiRoutes } from '../http/openapi-routes';
import { apiDescription } from './api-description';

export interface ApiDeps {
  /** The API database (openApiDatabase): trips and idempotency_keys. */
  db: Db;
  temporalClient: Client;
  config: Pick<Config, 'temporal' | 'api'> & Partial<Pick<Config, 'natsUrl' | 'twophase'>>;
  /** Bearer token → principal; defaults to config.api.tokens. */
  tokens?: Map<string, string>;
  /** Milliseconds since the epoch; tests move it to expire locks and keys. */
  clock?: () => number;
  logger?: boolean | { level: string };
  /** Serves Temporal's remote codec (`/codec/encode`, `/codec/decode`) with this payload codec. */
  codec?: { codec: PayloadCodec; allowUiOrigin: boolean };
}

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyStore: IdempotencyStore;
    purgeJob: PurgeJob | undefined;
  }
}

const PROBE_TIMEOUT_MS = 2000;
/** The longest `Prefer: wait` honoured: 30 s as documented, and below half the lock timeout. */
export const MAX_PREFER_WAIT_SECONDS = 30;

export function buildApp(deps: ApiDeps): FastifyInstance {
  const { api, temporal } = deps.config;
  const app = createHttpApp({ logger: deps.logger });
  // Public like /healthz (a scraper presents no token): request counts by route, no trip data.
  installHttpMetrics(app);
  const maxWaitSeconds = Math.max(
    1,
    Math.min(MAX_PREFER_WAIT_SECONDS, Math.floor(api.idempotencyLockTimeoutMs / 2000)),
  );
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
  // Public (orchestrators probe it without a token), so it names the dependency that is down and
  // nothing more: why it is down (addresses, driver messages) goes to the log only.
  app.get('/readyz', async (request, reply) => {
    const checks: Record<string, 'ok' | 'unavailable'> = {};
    const probe = async (name: string, p: (signal: AbortSignal) => Promise<unknown>) => {
      try {
        const answered = await withDeadline(async (signal) => (await p(signal), true), PROBE_TIMEOUT_MS);
        if (!answered) request.log.warn({ dependency: name }, `readiness: no answer in ${PROBE_TIMEOUT_MS} ms`);
        checks[name] = answered ? 'ok' : 'unavailable';
      } catch (err) {
        request.log.warn({ dependency: name, err }, 'readiness: dependency unavailable');
        checks[name] = 'unavailable';
      }
    };
    const temporalClient = deps.temporalClient;
    await Promise.all([
      probe('database', () => deps.db.raw('select 1')),
      probe('temporal', (signal) =>
        temporalClient.withAbortSignal(signal, () => temporalClient.workflowService.getSystemInfo({})),
      ),
    ]);
    if (Object.values(checks).some((v) => v !== 'ok')) throw notReady(checks);
    return reply.send({ status: 'ready', checks });
  });

  if (deps.codec) {
    registerCodecRoutes(app, {
      ...deps.codec,
      tokens: deps.tokens ?? api.tokens,
      uiOrigin: new URL(temporal.uiUrl).origin,
    });
  }

  // Everything about trips needs a principal; health probes and unknown routes do not.
  void app.register(async (scope) => {
    requireBearer(scope, deps.tokens ?? api.tokens);
    registerTripRoutes(scope, {
      db: deps.db,
      store,
      temporal: deps.temporalClient,
      taskQueue: temporal.taskQueue,
      natsUrl: deps.config.natsUrl,
      twophaseUrl: deps.config.twophase?.url,
      maxWaitSeconds,
    });
  });
  const maxParamLength = maxParamLengthOf(app);
  registerOpenApiRoutes(app, apiDescription({ maxWaitSeconds, maxParamLength, codec: Boolean(deps.codec) }));
  return app;
}
