/**
 * `npm run relay`: the outbox relay. Drains the outbox of each service database (OUTBOX_SOURCES)
 * to NATS JetStream when NATS_URL is set, else as signed webhooks to the notifications service.
 * Run several against one PostgreSQL: row locks keep them off each other's batches. Reports
 * published/lag/parked as JSON log lines and on http://127.0.0.1:RELAY_METRICS_PORT/metrics.
 */
import pino from 'pino';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName } from '../config';
import { openDatabase } from '../db/knex';
import type { Migration } from '../db/migrations';
import { startTracing } from '../observability/tracing';
import { startMetricsServer } from '../relay/metrics-server';
import { streamSettingsFrom } from '../outbox/nats-stream';
import { createNatsTransport } from '../relay/nats-transport';
import { OutboxRelay, type RelaySource } from '../relay/outbox-relay';
import { createRelayMetrics } from '../relay/relay-metrics';
import type { Transport } from '../relay/transport';
import { createWebhookTransport } from '../relay/webhook-transport';
import { migrationsFor } from '../services/booking-service';
import { apiMigrations } from '../trips/trip-records';

function migrationsOf(source: string): Migration[] {
  if (source === 'api') return apiMigrations;
  if ((BOOKING_SERVICES as readonly string[]).includes(source)) return migrationsFor(source as BookingServiceName);
  throw new Error(`OUTBOX_SOURCES: "${source}" has no outbox`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config, 'relay');
  const logger = pino({ level: config.logLevel, base: { process: 'relay', pid: process.pid } });
  const sources: RelaySource[] = [];
  let transport: Transport | undefined;
  try {
    for (const name of config.outbox.sources) {
      sources.push({ name, db: await openDatabase(name, config, { migrations: migrationsOf(name) }) });
    }
    transport = config.natsUrl
      ? await createNatsTransport(streamSettingsFrom(config.natsUrl, config.outbox, config.natsAuth))
      : createWebhookTransport({ baseUrl: config.services.notifications.url, secret: config.outbox.webhookSecret });
    const metrics = createRelayMetrics(sources);
    const relay = new OutboxRelay(sources, transport, {
      ...config.outbox,
      // The crash test's hook: die after the broker has the batch, before it is marked.
      afterPublish: config.outbox.crashAfterPublish ? () => process.kill(process.pid, 'SIGKILL') : undefined,
      // The crash-mid-window test's hook: die with some publishes acknowledged and others in flight.
      onAck:
        config.outbox.crashAfterAcks > 0
          ? (acked) => acked >= config.outbox.crashAfterAcks && process.kill(process.pid, 'SIGKILL')
          : undefined,
      logger,
      metrics,
    });
    // Metrics are an aid, not a reason to stop relaying: 0 turns them off, and a second relay
    // on one host whose port is taken runs without them.
    const server =
      config.outbox.metricsPort === 0
        ? undefined
        : await startMetricsServer(metrics.registry, config.host, config.outbox.metricsPort).catch((err: unknown) => {
            logger.warn({ err: String(err), port: config.outbox.metricsPort }, 'metrics endpoint not started');
            return undefined;
          });
    logger.info(
      {
        sources: sources.map((s) => s.name),
        transport: transport.name,
        metrics: server ? `http://${config.host}:${server.port}/metrics` : null,
      },
      'outbox relay started',
    );
    relay.start();
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await relay.stop();
    await server?.close();
    logger.info({ sources: await relay.report() }, 'outbox relay stopped');
  } finally {
    await transport?.close();
    await Promise.allSettled(sources.map((s) => s.db.destroy()));
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
