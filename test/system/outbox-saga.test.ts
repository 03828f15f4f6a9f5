/**
 * The whole path on the embedded default: the saga's services and its end record write events,
 * the relay drains every service's outbox as signed webhooks, and the notifications service has
 * the confirmation (or the "could not book" notice, or the operators' NEEDS ATTENTION email) for
 * the trip, once.
 */
import { randomUUID } from 'node:crypto';
import { BOOKING_SERVICES, DEFAULT_OPS_EMAIL } from '../../src/config';
import { waitForEmails } from '../../src/services/notifications/wait-for-email';
import { bookTrip } from '../../src/workflows';
import { createTripWorker } from '../../src/workers/create-worker';
import { FailureType } from '../../src/shared/failures';
import { startRefusingUndoProxy } from '../support/refusing-undo-proxy';
import { relayStackToWebhook } from '../support/outbox-harness';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { startStack, type Stack } from '../../src/testkit/stack';

let stack: Stack;
let announcing: Awaited<ReturnType<typeof relayStackToWebhook>>;
beforeAll(async () => {
  stack = await startStack();
  announcing = await relayStackToWebhook(stack.config);
});
afterAll(async () => {
  await announcing?.stop();
  await stack?.stop();
});

const book = (request = sampleTrip()) =>
  stack.client.workflow.execute(bookTrip, {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `trip-${randomUUID()}`,
    args: [request],
  });

const emailsOf = (tripId: string) => waitForEmails(announcing.webhook.url, tripId, 20_000);

describe('saga → outbox → relay → notifications', () => {
  it('sends one confirmation email for a confirmed trip', async () => {
    const view = await book();
    expect(view.status).toBe('CONFIRMED');
    const emails = await emailsOf(view.tripId);
    expect(emails.map((e) => [e.kind, e.to])).toEqual([['confirmation', 'cust-42@customers.example']]);
    // Every service's events reached the inbox too (reservations and the capture send no email).
    const inbox = (await announcing
      .notifications('inbox')
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
      const api = announcing.api;
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
