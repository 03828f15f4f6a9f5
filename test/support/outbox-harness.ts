/**
 * Shared pieces of the outbox tests: a service database with an outbox (PostgreSQL or SQLite),
 * events that each call for one email, a notifications consumer on either transport, unique
 * JetStream names per test, and the delivery checks every transport must pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { connect, type NatsConnection } from 'nats';
import { openDatabase } from '../../src/db/knex';
import { appendEvent } from '../../src/outbox/append-event';
import type { OutboxRow } from '../../src/outbox/event';
import type { StreamSettings } from '../../src/outbox/nats-stream';
import { startJetStreamConsumer, type RunningConsumer } from '../../src/services/notifications/jetstream-consumer';
import { notificationsMigrations } from '../../src/services/notifications/migrations';
import { buildNotificationsApp } from '../../src/services/notifications/notifications-app';
import { paymentMigrations } from '../../src/services/payment/payment-app';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import { BOOKING_SERVICES, type Config } from '../../src/config';
import { OutboxRelay, type RelayOptions } from '../../src/relay/outbox-relay';
import { createWebhookTransport } from '../../src/relay/webhook-transport';
import { migrationsFor } from '../../src/services/booking-service';
import { apiMigrations } from '../../src/trips/trip-records';

export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export interface Dbs {
  dataDir: string;
  databaseUrl?: string;
  payment: Knex;
  notifications: Knex;
  close(): Promise<void>;
}

/** The payment database (it has an outbox) and the notifications database, on PG or SQLite. */
export async function openDbs(databaseUrl?: string): Promise<Dbs> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-outbox-'));
  const config = { dataDir, databaseUrl };
  const payment = await openDatabase('payment', config, { migrations: paymentMigrations });
  const notifications = await openDatabase('notifications', config, { migrations: notificationsMigrations });
  return {
    dataDir,
    databaseUrl,
    payment,
    notifications,
    async close() {
      await payment.destroy();
      await notifications.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Unique stream, subject prefix and durable per test, so tests never see each other's events. */
export function uniqueStream(natsUrl = NATS_URL): StreamSettings & { durable: string } {
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  return {
    natsUrl,
    stream: `TEST_${id}`,
    subjectPrefix: `test${id}.events`,
    durable: `notif_${id}`,
    signingSecret: WEBHOOK_SECRET,
  };
}

/** Appends `perAggregate` refund events for each of `aggregates` charges, one transaction per event. */
export async function appendRefunds(
  db: Knex,
  aggregates: number,
  perAggregate: number,
  label = randomUUID().slice(0, 8),
): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < perAggregate; n++) {
    for (let a = 0; a < aggregates; a++) {
      ids.push(
        await db.transaction((trx) =>
          appendEvent(trx, {
            aggregateType: 'charge',
            aggregateId: `charge-${label}-${a}`,
            eventType: 'ChargeRefunded',
            payload: { tripId: `trip-${label}-${a}-${n}`, n, amountCents: 100 + n, currency: 'USD' },
          }),
        ),
      );
    }
  }
  return ids;
}

export async function startNatsConsumer(db: Knex, settings: StreamSettings & { durable: string }) {
  const nc = await connect({ servers: settings.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const consumer: RunningConsumer = await startJetStreamConsumer(nc, { ...settings, db });
  return {
    nc,
    async stop(deleteStream = true) {
      await consumer.stop();
      if (deleteStream) await (await nc.jetstreamManager()).streams.delete(settings.stream).catch(() => undefined);
      await nc.close();
    },
  };
}

/** A relay for tests: quick polling and backoff, retention of an hour. */
export const TEST_RELAY_OPTIONS: RelayOptions = {
  batchSize: 50,
  pollIntervalMs: 50,
  maxAttempts: 20,
  backoffBaseMs: 100,
  backoffMaxMs: 1000,
  retentionMs: 3_600_000,
};

/**
 * The announcing half of a stack: a relay draining every outbox of `config`'s databases (the four
 * services, then the API) as signed webhooks to a notifications consumer of its own.
 */
export async function relayStackToWebhook(config: Config) {
  const notifications = await openDatabase('notifications', config, { migrations: notificationsMigrations });
  const webhook = await startWebhookConsumer(notifications);
  const sources: Array<{ name: (typeof BOOKING_SERVICES)[number] | 'api'; db: Knex }> = [];
  for (const name of [...BOOKING_SERVICES, 'api'] as const) {
    const db = await openDatabase(name, config, { migrations: name === 'api' ? apiMigrations : migrationsFor(name) });
    sources.push({ name, db });
  }
  const relay = new OutboxRelay(
    sources,
    createWebhookTransport({ baseUrl: webhook.url, secret: WEBHOOK_SECRET }),
    TEST_RELAY_OPTIONS,
  );
  relay.start();
  return {
    notifications,
    /** The API's database, as the relay reads it. */
    api: sources[sources.length - 1]!.db,
    webhook,
    async stop() {
      await relay.stop();
      await webhook.stop();
      await Promise.all([notifications, ...sources.map((s) => s.db)].map((db) => db.destroy()));
    },
  };
}

export async function startWebhookConsumer(db: Knex, port = 0) {
  const app = buildNotificationsApp({ db, webhookSecret: WEBHOOK_SECRET, webhookToleranceMs: 300_000 });
  const url = await app.listen({ host: '127.0.0.1', port });
  return { app, url, stop: () => app.close() };
}

/** Messages the stream holds (duplicates the broker accepted would show here). */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  return (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const count = async (db: Knex, table: string, where: Record<string, unknown> = {}) =>
  Number(((await db(table).where(where).count({ n: '*' }).first()) as { n: number | string }).n);

export const unpublished = (db: Knex) => count(db, 'outbox', { published_at: null });

/** Events still waiting after a transient failure: an error recorded, no attempt counted toward parking. */
export async function failingTransiently(db: Knex): Promise<number> {
  const row = (await db('outbox')
    .whereNull('published_at')
    .whereNotNull('last_error')
    .andWhere('attempts', 0)
    .count({ n: '*' })
    .first()) as { n: number | string };
  return Number(row.n);
}

/**
 * The delivery checks: every event id applied once, one email per event, and within each
 * aggregate the consumer applied events in the order they were appended.
 */
export async function deliveryProblems(outboxDb: Knex, notificationsDb: Knex, eventIds: string[]): Promise<string[]> {
  const problems: string[] = [];
  const inbox = (await notificationsDb('inbox').whereIn('event_id', eventIds).orderBy('seq')) as Array<{
    event_id: string;
    aggregate_id: string;
  }>;
  const emails = (await notificationsDb('emails').whereIn('event_id', eventIds)) as Array<{ event_id: string }>;
  if (inbox.length !== eventIds.length) problems.push(`inbox has ${inbox.length} of ${eventIds.length} events`);
  if (emails.length !== eventIds.length) problems.push(`${emails.length} emails for ${eventIds.length} events`);
  if (new Set(emails.map((e) => e.event_id)).size !== emails.length) problems.push('an event produced two emails');
  const outbox = (await outboxDb<OutboxRow>('outbox').whereIn('event_id', eventIds).orderBy('seq')) as OutboxRow[];
  const appended = new Map<string, string[]>();
  for (const r of outbox) appended.set(r.aggregate_id, [...(appended.get(r.aggregate_id) ?? []), r.event_id]);
  const applied = new Map<string, string[]>();
  for (const r of inbox) applied.set(r.aggregate_id, [...(applied.get(r.aggregate_id) ?? []), r.event_id]);
  for (const [agg, ids] of appended) {
    if (JSON.stringify(applied.get(agg) ?? []) !== JSON.stringify(ids))
      problems.push(`aggregate ${agg} applied out of order`);
  }
  return problems;
}

/** Runs `npm run relay`'s entry point as a child process (the crash tests kill it for real). */
export function spawnRelay(
  env: Record<string, string>,
): ChildProcess & { exited: Promise<{ code: number | null; signal: string | null }>; output: () => string } {
  // node itself (not the tsx wrapper), so a SIGKILL shows as the child's own exit signal.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/processes/relay.ts'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', OUTBOX_POLL_INTERVAL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return Object.assign(child, { exited, output: () => out });
}
