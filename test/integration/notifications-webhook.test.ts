/** The notifications webhook: signatures, replay window, inbox dedup and the emails audit. */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../../src/outbox/event';
import { SIGNATURE_HEADER, signWebhook, WEBHOOK_PATH } from '../../src/outbox/webhook-signature';
import { count, openDbs, startWebhookConsumer, WEBHOOK_SECRET, type Dbs } from '../support/outbox-harness';

let dbs: Dbs;
let webhook: Awaited<ReturnType<typeof startWebhookConsumer>>;
beforeAll(async () => {
  dbs = await openDbs();
  webhook = await startWebhookConsumer(dbs.notifications);
});
afterAll(async () => {
  await webhook?.stop();
  await dbs?.close();
});

const confirmed = (tripId = `trip-${randomUUID()}`): EventEnvelope => ({
  id: randomUUID(),
  source: 'api',
  aggregateType: 'trip',
  aggregateId: tripId,
  type: 'TripConfirmed',
  payload: { tripId, customerId: 'cust-42', status: 'CONFIRMED' },
  createdAt: Date.now(),
});

const post = (body: string, signature?: string) =>
  fetch(webhook.url + WEBHOOK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { [SIGNATURE_HEADER]: signature } : {}) },
    body,
  });

const emailsOf = async (tripId: string) =>
  (await (await fetch(`${webhook.url}/emails?tripId=${encodeURIComponent(tripId)}`)).json()) as Array<
    Record<string, string>
  >;

describe('POST /webhooks/outbox', () => {
  it('sends one confirmation email for a signed event, and skips its redelivery', async () => {
    const event = confirmed();
    const body = JSON.stringify(event);
    const first = await post(body, signWebhook(WEBHOOK_SECRET, body));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ eventId: event.id, outcome: 'applied' });
    const again = await post(body, signWebhook(WEBHOOK_SECRET, body));
    expect(await again.json()).toEqual({ eventId: event.id, outcome: 'duplicate' });
    const emails = await emailsOf(event.aggregateId);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      eventId: event.id,
      kind: 'confirmation',
      to: 'cust-42@customers.example',
      tripId: event.aggregateId,
    });
  });

  const rejected: Array<[string, (body: string) => string | undefined]> = [
    ['no signature', () => undefined],
    ['a signature made with another secret', (b) => signWebhook('another-secret-of-enough-length', b)],
    ['a signature of another body', (b) => signWebhook(WEBHOOK_SECRET, b + ' ')],
    ['a stale timestamp outside the replay window', (b) => signWebhook(WEBHOOK_SECRET, b, Date.now() - 10 * 60_000)],
    ['a malformed signature header', () => 't=abc,v1=zz'],
  ];
  it.each(rejected)('answers 401 and changes nothing for %s', async (_name, sign) => {
    const event = confirmed();
    const body = JSON.stringify(event);
    const before = await count(dbs.notifications, 'inbox');
    const res = await post(body, sign(body));
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await count(dbs.notifications, 'inbox')).toBe(before);
    expect(await emailsOf(event.aggregateId)).toEqual([]);
  });

  it('refuses a signed body that is not an event envelope', async () => {
    const body = JSON.stringify({ hello: 'world' });
    expect((await post(body, signWebhook(WEBHOOK_SECRET, body))).status).toBe(400);
  });

  it('records events that need no email in the inbox only', async () => {
    const event: EventEnvelope = {
      ...confirmed(),
      aggregateType: 'charge',
      type: 'ChargeCaptured',
      payload: { tripId: 'trip-x' },
    };
    const body = JSON.stringify(event);
    expect((await post(body, signWebhook(WEBHOOK_SECRET, body))).status).toBe(200);
    expect(await count(dbs.notifications, 'inbox', { event_id: event.id })).toBe(1);
    expect(await count(dbs.notifications, 'emails', { event_id: event.id })).toBe(0);
  });
});

describe('GET /emails', () => {
  it('requires tripId', async () => {
    expect((await fetch(`${webhook.url}/emails`)).status).toBe(400);
  });
});
