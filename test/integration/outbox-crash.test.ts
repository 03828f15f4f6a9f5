/**
 * The relay SIGKILLed between publish and mark (a real child process, crashed by its test hook):
 * after a restart every event is delivered and every email exists exactly once, on both transports.
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

async function crashThenRecover(dbs: Dbs, env: Record<string, string>) {
  const ids = await appendRefunds(dbs.payment, 6, 5);
  const base = {
    ...env,
    DATA_DIR: dbs.dataDir,
    OUTBOX_SOURCES: 'payment',
    OUTBOX_BATCH_SIZE: String(BATCH),
    WEBHOOK_SECRET,
  };
  const crashing = spawnRelay({
    ...base,
    OUTBOX_TEST_CRASH_AFTER_PUBLISH: '1',
    RELAY_METRICS_PORT: String(await freePort()),
  });
  const crash = await crashing.exited;
  expect(crash).toEqual({ code: null, signal: 'SIGKILL' });
  // The batch reached the transport but was never marked: all events still count as unpublished.
  expect(await unpublished(dbs.payment)).toBe(ids.length);
  const deliveredBeforeRestart = await count(dbs.notifications, 'inbox');

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
  return { ids, deliveredBeforeRestart };
}

describe('relay killed between publish and mark', () => {
  let pg: TestDatabase;
  let dbs: Dbs | undefined;
  afterEach(async () => {
    await dbs?.close();
    dbs = undefined;
  });
  afterAll(async () => {
    await pg?.drop();
  });

  it('re-sends after a restart on PostgreSQL + NATS, and the broker and inbox keep one copy', async () => {
    pg = await createTestDatabase('outbox_crash');
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
});
