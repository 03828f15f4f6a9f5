/**
 * The choreographed trip's real stack for tests (and benchmarks): the four booking services with
 * their participants, the relay draining every outbox to JetStream, the projection into the trip
 * API's database and the notifications consumer, all in this process on private stream/subject
 * names. Participants listed in `external` are left to the test (a child process it kills).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { requestChoreographedTrip } from '../choreography/start-trip';
import { startStepParticipant, startTripProjection } from '../choreography/consumers';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName, type Config } from '../config';
import { openDatabase, type Db } from '../db/knex';
import type { RunningConsumer } from '../inbox/jetstream-consumer';
import { connectNats, streamSettingsFrom } from '../outbox/nats-stream';
import { createNatsTransport, type NatsTransport } from '../relay/nats-transport';
import { OutboxRelay } from '../relay/outbox-relay';
import { migrationsFor, startBookingService, type RunningService } from '../services/booking-service';
import { notificationsMigrations } from '../services/notifications/migrations';
import { startJetStreamConsumer } from '../services/notifications/jetstream-consumer';
import type { TripRequest, TripView } from '../shared/trip';
import { isTerminalStatus } from '../shared/trip-status';
import { apiMigrations, findTrip, openApiDatabase } from '../trips/trip-records';
import { freePort } from './stack';

export interface ChoreographyStackOptions {
  /** FAULTS for the in-process services and participants. */
  faults?: string;
  /** JetStream's redelivery delay for an unacked event (short in tests: lost acks come back fast). */
  ackWaitMs?: number;
  databaseUrl?: string;
  natsUrl?: string;
  /** Services whose HTTP app and participant the test runs itself (at `env` and the port given there). */
  external?: BookingServiceName[];
  /** Run the notifications consumer (default true); the compare bench leaves it out, as the other flavours' stacks do. */
  notifications?: boolean;
  /** The relay's idle poll (default 50 ms); on PostgreSQL a NOTIFY wakes it sooner. */
  relayPollIntervalMs?: number;
}

export interface ChoreographyStack {
  config: Config;
  /** The environment a child process of this stack needs (`npm run services -- hotel`). */
  env: NodeJS.ProcessEnv;
  services: Partial<Record<BookingServiceName, RunningService>>;
  apiDb: Db;
  notificationsDb: Db;
  nc: NatsConnection;
  /** Starts a choreographed trip; returns its id (`trip-…`). */
  book(request: TripRequest, tripId?: string): Promise<string>;
  /**
   * Resolves with the trip's view once it is terminal (rejects after `timeoutMs`), reading it every
   * `pollMs` (100) through `db` (default `apiDb`; a bench reads through its own handle to count its reads).
   */
  waitForEnd(tripId: string, timeoutMs?: number, options?: { pollMs?: number; db?: Db }): Promise<TripView>;
  stop(): Promise<void>;
}

export async function startChoreographyStack(options: ChoreographyStackOptions = {}): Promise<ChoreographyStack> {
  const label = randomUUID().replace(/-/g, '').slice(0, 10);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-choreo-'));
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    DATABASE_URL: options.databaseUrl,
    NATS_URL: options.natsUrl ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
    OUTBOX_STREAM: `CHOREO_TEST_${label}`,
    OUTBOX_SUBJECT_PREFIX: `choreo-test-${label}`,
    CHOREOGRAPHY_ACK_WAIT_MS: String(options.ackWaitMs ?? 2000),
    LOG_LEVEL: 'warn',
  };
  for (const name of options.external ?? []) env[`${name.toUpperCase()}_PORT`] = String(await freePort());
  let config = loadConfig({ ...env, FAULTS: options.faults });
  const services: ChoreographyStack['services'] = {};
  const consumers: RunningConsumer[] = [];
  const dbs: Db[] = [];
  let transport: NatsTransport | undefined;
  let relay: OutboxRelay | undefined;
  let nc: NatsConnection | undefined;
  const stop = async () => {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    await relay?.stop();
    await transport?.close();
    if (nc) {
      await (await nc.jetstreamManager()).streams.delete(config.outbox.stream).catch(() => undefined);
      await nc.close();
    }
    await Promise.allSettled(Object.values(services).map((s) => s.close()));
    await Promise.allSettled(dbs.map((db) => db.destroy()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const name of BOOKING_SERVICES) {
      if (options.external?.includes(name)) continue;
      const svc = await startBookingService(name, config, { port: 0 });
      services[name] = svc;
      env[`${name.toUpperCase()}_PORT`] = new URL(svc.url).port;
    }
    config = loadConfig({ ...env, FAULTS: options.faults });
    const settings = streamSettingsFrom(config.natsUrl as string, config.outbox);
    const apiDb = await openApiDatabase(config);
    dbs.push(apiDb);
    const notificationsDb = await openDatabase('notifications', config, { migrations: notificationsMigrations });
    dbs.push(notificationsDb);
    const sources = [{ name: 'api', db: await openDatabase('api', config, { migrations: apiMigrations }) }];
    for (const name of BOOKING_SERVICES) {
      sources.push({ name, db: await openDatabase(name, config, { migrations: migrationsFor(name) }) });
    }
    dbs.push(...sources.map((s) => s.db));
    transport = await createNatsTransport(settings);
    relay = new OutboxRelay(sources, transport, {
      batchSize: 100,
      pollIntervalMs: options.relayPollIntervalMs ?? 50,
      maxAttempts: 20,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      retentionMs: 3_600_000,
    });
    relay.start();
    nc = await connectNats(settings.natsUrl, `choreography-test-${label}`);
    const consumerOptions = { ...settings, ackWaitMs: config.choreography.ackWaitMs };
    for (const svc of Object.values(services)) {
      consumers.push(await startStepParticipant(nc, consumerOptions, svc.context, svc.name));
    }
    consumers.push(await startTripProjection(nc, consumerOptions, apiDb));
    if (options.notifications !== false) {
      consumers.push(await startJetStreamConsumer(nc, { ...settings, durable: 'notifications', db: notificationsDb }));
    }
    const connection = nc;
    return {
      get config() {
        return config;
      },
      env,
      services,
      apiDb,
      notificationsDb,
      nc: connection,
      async book(request, tripId = `trip-choreo-${randomUUID()}`) {
        await requestChoreographedTrip(apiDb, { tripId, request, principal: null });
        return tripId;
      },
      async waitForEnd(tripId, timeoutMs = 60_000, { pollMs = 100, db = apiDb } = {}) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const view = (await findTrip(db, tripId))?.view;
          if (view && isTerminalStatus(view.status)) return view;
          if (Date.now() > deadline) {
            throw new Error(`trip ${tripId} did not end in ${timeoutMs} ms: ${JSON.stringify(view)}`);
          }
          await new Promise((r) => setTimeout(r, pollMs));
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
