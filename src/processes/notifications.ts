/**
 * `npm run notifications`: the notifications consumer. Receives trip and payment events (signed
 * webhooks on NOTIFICATIONS_PORT, and the JetStream durable consumer when NATS_URL is set) and
 * "sends" each email exactly once into its `emails` table; `GET /emails?tripId=` lists them.
 */
import { loadConfig } from '../config';
import { startNotificationsService } from '../services/notifications/notifications-service';
import { startTracing } from '../observability/tracing';

async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config, 'notifications');
  const service = await startNotificationsService(config, { logger: { level: config.logLevel } });
  console.log(
    JSON.stringify({
      msg: 'notifications listening',
      url: service.url,
      transport: config.natsUrl ? 'nats' : 'webhook',
      stream: config.natsUrl ? config.outbox.stream : null,
    }),
  );
  const stop = async () => {
    await service.close().catch((err) => console.error(err));
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
