/**
 * Builds one booking service (flight, hotel, car or payment): its database, its idempotency
 * store and its Fastify app. `buildApp` takes its dependencies, so tests can `inject()`.
 */
import type { FastifyInstance } from 'fastify';
import type { Config, BookingServiceName } from '../config';
import { openDatabase, type Db } from '../db/knex';
import type { Migration } from '../db/migrations';
import { startPurgeJob, type PurgeJob } from '../idempotency/purge-job';
import { IdempotencyStore } from '../idempotency/store';
import { CATALOGS } from './booking/catalog';
import { registerInventoryRoutes } from './booking/inventory-app';
import { inventoryMigrations } from './booking/migrations';
import { parseFaults, type Faults } from '../http/faults';
import { newServiceStats, type ServiceContext, type ServiceStats } from '../http/idempotent-route';
import { createHttpApp } from '../http/app';
import { installHttpMetrics } from '../observability/http-metrics';
import { paymentMigrations, registerPaymentRoutes } from './payment/payment-app';
import { registerTwoPhaseRoutes } from './two-phase-participant';
import { registerOpenApiRoutes } from '../http/openapi-routes';
import { bookingServiceDescription } from './service-description';

/** Service keys are kept far longer than any saga can retry a step (tombstones included). */
export const SERVICE_KEY_RETENTION_MS = 30 * 86_400_000;
export const SERVICE_LOCK_TIMEOUT_MS = 60_000;
export const SERVICE_PURGE_INTERVAL_MS = 3_600_000;

export function migrationsFor(name: BookingServiceName): Migration[] {
  return name === 'payment' ? paymentMigrations : inventoryMigrations(CATALOGS[name]);
}

export interface BookingServiceDeps {
  name: BookingServiceName;
  db: Db;
  faults?: Faults;
  stats?: ServiceStats;
  logger?: boolean | { level: string };
}

/** The context every keyed operation of a service runs in (its HTTP routes and its event handlers alike). */
export function createServiceContext(deps: BookingServiceDeps): ServiceContext {
  const store = new IdempotencyStore(deps.db, {
    lockTimeoutMs: SERVICE_LOCK_TIMEOUT_MS,
    retentionMs: SERVICE_KEY_RETENTION_MS,
  });
  return {
    db: deps.db,
    store,
    scope: deps.name,
    faults: deps.faults ?? parseFaults(undefined),
    stats: deps.stats ?? newServiceStats(),
  };
}

export function buildApp(deps: BookingServiceDeps, ctx: ServiceContext = createServiceContext(deps)): FastifyInstance {
  const app = createHttpApp({ logger: deps.logger });
  installHttpMetrics(app);
  // Keys (tombstones included) are purged once past their retention, like the API's.
  let purgeJob: PurgeJob | undefined;
  app.addHook('onReady', async () => {
    purgeJob = startPurgeJob(ctx.store, SERVICE_PURGE_INTERVAL_MS, app.log);
  });
  app.addHook('onClose', async () => purgeJob?.stop());
  app.addHook('onRequest', async () => {
    ctx.stats.requests++;
  });
  app.get('/healthz', async () => ({ status: 'ok', service: deps.name }));
  if (deps.name === 'payment') registerPaymentRoutes(app, ctx);
  else registerInventoryRoutes(app, ctx, CATALOGS[deps.name] as Parameters<typeof registerInventoryRoutes>[2]);
  // The two-phase-commit flavour's participant (answers 503 unless on PostgreSQL with prepared transactions).
  registerTwoPhaseRoutes(app, ctx, deps.name);
  registerOpenApiRoutes(app, bookingServiceDescription(deps.name));
  return app;
}

export interface RunningService {
  name: BookingServiceName;
  app: FastifyInstance;
  db: Db;
  url: string;
  stats: ServiceStats;
  /** What its keyed operations run in; a choreography participant shares it. */
  context: ServiceContext;
  close(): Promise<void>;
}

/** Opens the database, builds the app and listens on the configured port (0 = any free port). */
export async function startBookingService(
  name: BookingServiceName,
  config: Config,
  options: { port?: number; logger?: boolean | { level: string } } = {},
): Promise<RunningService> {
  const db = await openDatabase(name, config, { migrations: migrationsFor(name) });
  const stats = newServiceStats();
  const deps: BookingServiceDeps = { name, db, faults: parseFaults(config.faults), stats, logger: options.logger };
  const context = createServiceContext(deps);
  const app = buildApp(deps, context);
  try {
    const address = await app.listen({ host: config.host, port: options.port ?? config.services[name].port });
    return {
      name,
      app,
      db,
      stats,
      context,
      url: address.replace('0.0.0.0', '127.0.0.1'),
      close: async () => {
        await app.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}
