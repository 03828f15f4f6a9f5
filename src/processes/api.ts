/**
 * `npm run api`: the trip API process. Listens on API_PORT (3000) at HOST, talks to Temporal and
 * to its own database (SQLite under DATA_DIR, or PostgreSQL with DATABASE_URL) until SIGINT/SIGTERM.
 * With PAYLOAD_KEYS it also serves Temporal's remote codec at /codec (docs/security.md).
 */
import type { Client } from '@temporalio/client';
import { loadConfig } from '../config';
import type { Db } from '../db/knex';
import { connectClient } from '../temporal/connection';
import { payloadCodecFor } from '../temporal/data-converter';
import { openApiDatabase } from '../trips/trip-records';
import { buildApp } from '../api/app';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.api.tokens.size === 0) console.warn('API_TOKENS is empty: every trip request will be answered 401');
  let db: Db | undefined;
  let client: Client | undefined;
  try {
    db = await openApiDatabase(config);
    client = await connectClient(config);
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
    await client?.connection.close();
    await db?.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
