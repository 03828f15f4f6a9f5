/**
 * The relay SIGKILLed between publish and mark (a real child process, crashed by its test hook),
 * after the whole batch was acknowledged or mid-window (some publishes acknowledged, others in
 * flight): after a restart every event is delivered and every email exists exactly once, on both
 * transports.
 */
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { freePort } from '../../src/testkit/stack';
import {
  appendRefunds,
  count,
  deliveryProblems,
  NATS_URL,
  openDbs,
  spawnRelay,
  startNatsConsumer,
  startWebhookConsumer,
  streamMessages,
  uniqueStream,
  unpublished,
  waitFor,
  WEBHOOK_SECRET,
  type Dbs,
} from '../support/outbox-harness';

const BATCH = 10;

/** The whole batch of 30 claimed at once; the relay dies at its 8th acknowledgement, others in flight. */
interface CrashPoint {
  batch: number;
  crash: Record<string, string>;
}

const MID_WINDOW: CrashPoint = { batch: 30, crash: { OUTBOX_TEST_CRASH_AFTER_ACKS: '8' } };
const AFTER_BATCH: CrashPoint = { batch: BATCH, crash: { OUTBOX_TEST_CRASH_AFTER_PUBLISH: '1' } };

async function crashThenRecover(
  dbs: Dbs,
  env: Record<string, string>,
  when: CrashPoint = AFTER_BATCH,
  beforeRestart?: () => Promise<number>,
) {
  const ids = await appendRefunds(dbs.payment, 6, 5);
  const base = {
    ...env,
    DATA_DIR: dbs.dataDir,
    OUTBOX_SOURCES: 'payment',
    OUTBOX_BATCH_SIZE: String(when.batch),
    WEBHOOK_SECRET,
  };
  const crashing = spawnRelay({
    ...base,
    ...when.crash,
    RELAY_METRICS_PORT: String(await freePort()),
  });
  const crash = await crashing.exited;
  expect(crash).toEqual({ code: null, signal: 'SIGKILL' });
  // The batch reached the transport but was never marked: all events still count as unpublished.
  expect(await unpublished(dbs.payment)).toBe(ids.length);
  const deliveredBeforeRestart = await count(dbs.notifications, 'inbox');
  const streamBeforeRestart = await beforeRestart?.();

  const relay = spawnRelay({ ...base, RELAY_METRICS_PORT: String(await freePort()) });
  try {
    await waitFor(
      'outbox drained after restart',
      () => unpublished(dbs.payment),
      (n) => n === 0,
      60_000,
    );
    await waitFor(
      'every event applied',
      () => count(dbs.notifications, 'emails'),
      (n) => n >= ids.length,
    );
  } finally {
    relay.kill('SIGTERM');
  }
  const exit = await relay.exited;
  expect(exit.code).toBe(0);
  expect(relay.output()).toMatch(/outbox relay stopped/);
  expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
  expect(await count(dbs.notifications, 'emails')).toBe(ids.length);
  return { ids, deliveredBeforeRestart, streamBeforeRestart };
}

describe('relay killed between publish and mark', () => {
  // Every database a test made is dropped (two tests make one each).
  const made: TestDatabase[] = [];
  const testDatabase = async () => {
    const db = await createTestDatabase('outbox_crash');
    made.push(db);
    return db;
  };
  let dbs: Dbs | undefined;
  afterEach(async () => {
    await dbs?.close();
    dbs = undefined;
  });
  afterAll(async () => {
    await Promise.all(made.map((db) => db.drop()));
  });

  it('re-sends after a restart on PostgreSQL + NATS, and the broker and inbox keep one copy', async () => {
    const pg = await testDatabase();
    dbs = await openDbs(pg.url);
    const settings = uniqueStream();
    const consumer = await startNatsConsumer(dbs.notifications, settings);
    try {
      const { ids } = await crashThenRecover(dbs, {
        DATABASE_URL: pg.url,
        NATS_URL,
        OUTBOX_STREAM: settings.stream,
        OUTBOX_SUBJECT_PREFIX: settings.subjectPrefix,
      });
      expect(await streamMessages(consumer.nc, settings.stream)).toBe(ids.length);
    } finally {
      await consumer.stop();
    }
  });

  it('re-sends after a restart on SQLite + signed webhooks, and the inbox drops the repeats', async () => {
    dbs = await openDbs();
    const webhook = await startWebhookConsumer(dbs.notifications);
    try {
      const { deliveredBeforeRestart } = await crashThenRecover(dbs, { NOTIFICATIONS_URL: webhook.url });
      // The webhook applied the whole first batch before the relay died: those were sent twice.
      expect(deliveredBeforeRestart).toBe(BATCH);
    } finally {
      await webhook.stop();
    }
  });

  it('re-sends after a crash mid-window on PostgreSQL + NATS: nothing lost, the broker keeps one copy', async () => {
    const pg = await testDatabase();
    dbs = await openDbs(pg.url);
    const settings = uniqueStream();
    const consumer = await startNatsConsumer(dbs.notifications, settings);
    try {
      const { ids, streamBeforeRestart } = await crashThenRecover(
        dbs,
        {
          DATABASE_URL: pg.url,
          NATS_URL,
          OUTBOX_STREAM: settings.stream,
          OUTBOX_SUBJECT_PREFIX: settings.subjectPrefix,
        },
        MID_WINDOW,
        () => streamMessages(consumer.nc, settings.stream),
      );
      // Killed mid-batch: at least the acknowledged publishes reached the broker, not the whole batch.
      expect(streamBeforeRestart).toBeGreaterThanOrEqual(8);
      expect(streamBeforeRestart).toBeLessThan(ids.length);
      expect(await streamMessages(consumer.nc, settings.stream)).toBe(ids.length);
    } finally {
      await consumer.stop();
    }
  });

  it('re-sends after a crash mid-window on SQLite + signed webhooks, and the inbox absorbs the repeats', async () => {
    dbs = await openDbs();
    const webhook = await startWebhookConsumer(dbs.notifications);
    try {
      const { ids, deliveredBeforeRestart } = await crashThenRecover(
        dbs,
        { NOTIFICATIONS_URL: webhook.url },
        MID_WINDOW,
      );
      // The acknowledged ones were applied before the relay died, and were sent again after it.
      expect(deliveredBeforeRestart).toBeGreaterThanOrEqual(8);
      expect(deliveredBeforeRestart).toBeLessThan(ids.length);
    } finally {
      await webhook.stop();
    }
  });
});
