/**
 * `npm run api`: the trip API process. Listens on API_PORT (3000) at HOST, talks to Temporal and
 * to its own database (SQLite under DATA_DIR, or PostgreSQL with DATABASE_URL) until SIGINT/SIGTERM.
 * With NATS_URL it also runs the choreographed trips' projection into that database.
 * With PAYLOAD_KEYS it also serves Temporal's remote codec at /codec (docs/security.md).
 */
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { startTripProjection } from '../choreography/consumers';
import { loadConfig } from '../config';
import type { RunningConsumer } from '../inbox/jetstream-consumer';
import { connectNats, streamSettingsFrom } from '../outbox/nats-stream';
import type { Db } from '../db/knex';
import { connectClient } from '../temporal/connection';
import { payloadCodecFor } from '../temporal/data-converter';
import { openApiDatabase } from '../trips/trip-records';
import { buildApp } from '../api/app';
import { startTracing } from '../observability/tracing';

async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config, 'api');
  if (config.api.tokens.size === 0) console.warn('API_TOKENS is empty: every trip request will be answered 401');
  let db: Db | undefined;
  let client: Client | undefined;
  let nc: NatsConnection | undefined;
  let projection: RunningConsumer | undefined;
  try {
    db = await openApiDatabase(config);
    client = await connectClient(config);
    if (config.natsUrl) {
      nc = await connectNats(config.natsUrl, 'trip-api');
      projection = await startTripProjection(
        nc,
        {
          ...streamSettingsFrom(config.natsUrl, config.outbox),
          ackWaitMs: config.choreography.ackWaitMs,
          logger: pino({ level: config.logLevel, base: { process: 'api', consumer: 'choreography-projection' } }),
        },
        db,
      );
    }
    const codec = payloadCodecFor(config.codec);
    const app = buildApp({
      db,
      temporalClient: client,
      config,
      logger: { level: config.logLevel },
      codec: codec && { codec, allowUiOrigin: config.codec.allowUiOrigin },
    });
    const stopped = new Promise<void>((resolve) => {
      const stop = () => void app.close().then(resolve, resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    const address = await app.listen({ host: config.host, port: config.services.api.port });
    console.log(JSON.stringify({ msg: 'trip API listening', url: address.replace('0.0.0.0', '127.0.0.1') }));
    await stopped;
  } finally {
    await projection?.stop();
    await nc?.close();
    await client?.connection.close();
    await db?.destroy();
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
