/**
 * The whole path on the embedded default: the saga's services and its end record write events,
 * the relay drains every service's outbox as signed webhooks, and the notifications service has
 * the confirmation (or the "could not book" notice, or the operators' NEEDS ATTENTION email) for
 * the trip, once.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { BOOKING_SERVICES, DEFAULT_OPS_EMAIL } from '../../src/config';
import { openDatabase } from '../../src/db/knex';
import { OutboxRelay } from '../../src/relay/outbox-relay';
import { createWebhookTransport } from '../../src/relay/webhook-transport';
import { migrationsFor } from '../../src/services/booking-service';
import { waitForEmails } from '../../src/services/notifications/wait-for-email';
import { notificationsMigrations } from '../../src/services/notifications/migrations';
import { apiMigrations } from '../../src/trips/trip-records';
import { bookTrip } from '../../src/workflows';
import { createTripWorker } from '../../src/workers/create-worker';
import { FailureType } from '../../src/shared/failures';
import { startRefusingUndoProxy } from '../support/refusing-undo-proxy';
import { startWebhookConsumer, WEBHOOK_SECRET } from '../support/outbox-harness';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { startStack, type Stack } from '../../src/testkit/stack';

let stack: Stack;
let relay: OutboxRelay;
let webhook: Awaited<ReturnType<typeof startWebhookConsumer>>;
const dbs: Knex[] = [];
beforeAll(async () => {
  stack = await startStack();
  const notifications = await openDatabase('notifications', stack.config, { migrations: notificationsMigrations });
  dbs.push(notifications);
  webhook = await startWebhookConsumer(notifications);
  const sources = [];
  for (const name of [...BOOKING_SERVICES, 'api'] as const) {
    const db = await openDatabase(name, stack.config, {
      migrations: name === 'api' ? apiMigrations : migrationsFor(name),
    });
    dbs.push(db);
    sources.push({ name, db });
  }
  relay = new OutboxRelay(sources, createWebhookTransport({ baseUrl: webhook.url, secret: WEBHOOK_SECRET }), {
    batchSize: 50,
    pollIntervalMs: 50,
    maxAttempts: 20,
    backoffBaseMs: 100,
    backoffMaxMs: 1000,
    retentionMs: 3_600_000,
  });
  relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await webhook?.stop();
  await stack?.stop();
  await Promise.all(dbs.map((d) => d.destroy()));
});

const book = (request = sampleTrip()) =>
  stack.client.workflow.execute(bookTrip, {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `trip-${randomUUID()}`,
    args: [request],
  });

const emailsOf = (tripId: string) => waitForEmails(webhook.url, tripId, 20_000);

describe('saga → outbox → relay → notifications', () => {
  it('sends one confirmation email for a confirmed trip', async () => {
    const view = await book();
    expect(view.status).toBe('CONFIRMED');
    const emails = await emailsOf(view.tripId);
    expect(emails.map((e) => [e.kind, e.to])).toEqual([['confirmation', 'cust-42@customers.example']]);
    // Every service's events reached the inbox too (reservations and the capture send no email).
    const inbox = (await dbs[0]!('inbox')
      .where('event_type', 'like', 'Reservation%')
      .orWhere({ event_type: 'ChargeCaptured' })) as Array<{ source: string }>;
    expect(new Set(inbox.map((r) => r.source))).toEqual(new Set(BOOKING_SERVICES));
  });

  it('sends one "could not book" notice when the hotel is full', async () => {
    const view = await book(sampleTrip({ hotel: { hotelId: 'H-FULL' } }));
    expect(view.status).toBe('COMPENSATED');
    const emails = await emailsOf(view.tripId);
    expect(emails.map((e) => e.kind)).toEqual(['booking-failed']);
  });

  it('emails the operators, and announces it once, when a trip needs attention', async () => {
    // A worker whose flight service refuses to undo this trip: the hotel is full, the flight
    // cannot be released, a human must look.
    const proxy = await startRefusingUndoProxy(stack.config.services.flight.url, 'needs-attention');
    const taskQueue = `stuck-${randomUUID()}`;
    const stuck = await createTripWorker({
      ...stack.config,
      temporal: { ...stack.config.temporal, taskQueue },
      services: { ...stack.config.services, flight: { port: 1, url: proxy.url } },
    });
    const running = stuck.worker.run();
    try {
      const workflowId = `trip-needs-attention-${randomUUID()}`;
      const outcome = stack.client.workflow.execute(bookTrip, {
        taskQueue,
        workflowId,
        args: [sampleTrip({ hotel: { hotelId: 'H-FULL' } })],
      });
      await expect(outcome).rejects.toMatchObject({ cause: { type: FailureType.NeedsAttention } });
      const emails = await emailsOf(workflowId);
      expect(emails.map((e) => [e.kind, e.to])).toEqual([['needs-attention', DEFAULT_OPS_EMAIL]]);
      expect(emails[0]?.subject).toMatch(/NEEDS ATTENTION/);
      expect(emails[0]?.body).toMatch(/flight: flight answered 400/);
      const api = dbs[dbs.length - 1] as Knex; // the API database, the last source opened
      const events = await api('outbox').where({ aggregate_id: workflowId }).select('event_type');
      expect(events.map((e) => e.event_type)).toEqual(['TripNeedsAttention']);
      expect(await api('trips').where({ trip_id: workflowId }).first()).toMatchObject({ status: 'NEEDS_ATTENTION' });
    } finally {
      stuck.worker.shutdown();
      await running.catch(() => undefined);
      await stuck.connection.close();
      await stuck.apiDb.destroy();
      await proxy.close();
    }
  });
});
