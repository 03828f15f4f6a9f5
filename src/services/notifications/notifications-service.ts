/**
 * Starts the notifications service: its database, the HTTP app (webhook + emails audit) and,
 * when NATS_URL is set, the JetStream durable consumer.
 */
import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import type { Config } from '../../config';
import { openDatabase, type Db } from '../../db/knex';
import { installHttpMetrics } from '../../observability/http-metrics';
import { connectNats, streamSettingsFrom } from '../../outbox/nats-stream';
import { startJetStreamConsumer, type RunningConsumer } from './jetstream-consumer';
import { notificationsMigrations } from './migrations';
import { buildNotificationsApp } from './notifications-app';

export interface RunningNotifications {
  app: FastifyInstance;
  db: Db;
  url: string;
  close(): Promise<void>;
}

export async function startNotificationsService(
  config: Config,
  options: { port?: number; logger?: boolean | { level: string } } = {},
): Promise<RunningNotifications> {
  const db = await openDatabase('notifications', config, { migrations: notificationsMigrations });
  const app = buildNotificationsApp({
    db,
    webhookSecret: config.outbox.webhookSecret,
    webhookToleranceMs: config.outbox.webhookToleranceMs,
    opsEmail: config.notifications.opsEmail,
    logger: options.logger,
  });
  let nc: NatsConnection | undefined;
  let consumer: RunningConsumer | undefined;
  // The HTTP metrics and the consumer's (notifications_events_rejected_total) on one /metrics.
  const metrics = installHttpMetrics(app);
  try {
    const address = await app.listen({ host: config.host, port: options.port ?? config.services.notifications.port });
    if (config.natsUrl) {
      nc = await connectNats(config.natsUrl, 'notifications', config.natsAuth);
      consumer = await startJetStreamConsumer(nc, {
        ...streamSettingsFrom(config.natsUrl, config.outbox, config.natsAuth),
        durable: config.outbox.durable,
        db,
        metrics,
        opsEmail: config.notifications.opsEmail,
        logger: pino({ level: config.logLevel, base: { service: 'notifications' } }),
      });
    }
    return {
      app,
      db,
      url: address.replace('0.0.0.0', '127.0.0.1'),
      async close() {
        await consumer?.stop();
        await nc?.close();
        await app.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await nc?.close();
    await app.close();
    await db.destroy();
    throw err;
  }
}
