/** The embedded default: SQLite outbox, relay → signed webhooks → notifications, same delivery checks. */
import { OutboxRelay, type RelayOptions } from '../../src/relay/outbox-relay';
import { purgePublished } from '../../src/relay/purge-published';
import { createWebhookTransport } from '../../src/relay/webhook-transport';
import { freePort } from '../../src/testkit/stack';
import {
  appendRefunds,
  count,
  deliveryProblems,
  openDbs,
  startWebhookConsumer,
  failingTransiently,
  unpublished,
  waitFor,
  WEBHOOK_SECRET,
  type Dbs,
} from '../support/outbox-harness';

const options: RelayOptions = {
  batchSize: 16,
  pollIntervalMs: 20,
  maxAttempts: 1000,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  retentionMs: 3_600_000,
};

let dbs: Dbs;
beforeEach(async () => {
  dbs = await openDbs();
});
afterEach(async () => {
  await dbs?.close();
});

describe('relay → signed webhooks → notifications on SQLite', () => {
  it('delivers every event once, one email each, in order per aggregate', async () => {
    const webhook = await startWebhookConsumer(dbs.notifications);
    try {
      const ids = await appendRefunds(dbs.payment, 7, 5);
      const relay = new OutboxRelay(
        [{ name: 'payment', db: dbs.payment }],
        createWebhookTransport({ baseUrl: webhook.url, secret: WEBHOOK_SECRET }),
        options,
      );
      expect(await relay.drainAll()).toBe(ids.length);
      expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
      // A second drain finds nothing to send: published rows are never sent again.
      expect(await relay.drainAll()).toBe(0);
    } finally {
      await webhook.stop();
    }
  });

  it('keeps events while the notifications service is down and delivers them all once it is back', async () => {
    const port = await freePort();
    const relay = new OutboxRelay(
      [{ name: 'payment', db: dbs.payment }],
      createWebhookTransport({ baseUrl: `http://127.0.0.1:${port}`, secret: WEBHOOK_SECRET, timeoutMs: 500 }),
      options,
    );
    relay.start();
    const ids = await appendRefunds(dbs.payment, 4, 3);
    try {
      await waitFor(
        'failed attempts recorded',
        () => failingTransiently(dbs.payment),
        (n) => n > 0,
      );
      expect(await unpublished(dbs.payment)).toBe(ids.length);
      const webhook = await startWebhookConsumer(dbs.notifications, port);
      try {
        await waitFor(
          'outbox drained',
          () => unpublished(dbs.payment),
          (n) => n === 0,
          30_000,
        );
      } finally {
        await webhook.stop();
      }
    } finally {
      await relay.stop();
    }
    expect(await deliveryProblems(dbs.payment, dbs.notifications, ids)).toEqual([]);
  });

  it('purges published rows past retention and keeps unpublished ones', async () => {
    const webhook = await startWebhookConsumer(dbs.notifications);
    try {
      const sent = await appendRefunds(dbs.payment, 2, 2);
      await new OutboxRelay(
        [{ name: 'payment', db: dbs.payment }],
        createWebhookTransport({ baseUrl: webhook.url, secret: WEBHOOK_SECRET }),
        options,
      ).drainAll();
      const waiting = await appendRefunds(dbs.payment, 1, 1);
      await new Promise((r) => setTimeout(r, 5));
      expect(await purgePublished(dbs.payment, 1)).toBe(sent.length);
      expect((await dbs.payment('outbox').select('event_id')).map((r: { event_id: string }) => r.event_id)).toEqual(
        waiting,
      );
    } finally {
      await webhook.stop();
    }
  });
});

describe('an aggregate waiting in backoff', () => {
  it('holds back only its own later events, not the other aggregates', async () => {
    const webhook = await startWebhookConsumer(dbs.notifications);
    try {
      const [poisoned] = await appendRefunds(dbs.payment, 1, 1, 'hot');
      const sameAggregateLater = await appendRefunds(dbs.payment, 1, 6, 'hot');
      const others = await appendRefunds(dbs.payment, 3, 1);
      const real = createWebhookTransport({ baseUrl: webhook.url, secret: WEBHOOK_SECRET });
      const transport = {
        ...real,
        publish: async (e: Parameters<typeof real.publish>[0]) =>
          e.id === poisoned ? Promise.reject(new Error('refused')) : real.publish(e),
      };
      const relay = new OutboxRelay([{ name: 'payment', db: dbs.payment }], transport, {
        ...options,
        batchSize: 2,
        backoffBaseMs: 60_000,
        backoffMaxMs: 60_000,
      });
      relay.start();
      try {
        await waitFor(
          'the other aggregates delivered',
          () => count(dbs.notifications, 'inbox'),
          (n) => n === others.length,
          10_000,
        );
      } finally {
        await relay.stop();
      }
      expect(await deliveryProblems(dbs.payment, dbs.notifications, others)).toEqual([]);
      // Order: nothing after the failing event of its aggregate went out.
      for (const id of [poisoned, ...sameAggregateLater])
        expect(await count(dbs.notifications, 'inbox', { event_id: id })).toBe(0);
    } finally {
      await webhook.stop();
    }
  });
});
