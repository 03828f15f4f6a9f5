/**
 * Parking is for poison events only: a transport outage longer than OUTBOX_MAX_ATTEMPTS never
 * parks, and a parked event holds back the later events of its own aggregate (only).
 */
import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../../src/outbox/event';
import { OutboxRelay } from '../../src/relay/outbox-relay';
import { TransientPublishError, type Transport } from '../../src/relay/transport';
import { appendEvent } from '../../src/outbox/append-event';
import { openDbs, type Dbs } from '../support/outbox-harness';

let dbs: Dbs;
beforeAll(async () => {
  dbs = await openDbs();
});
afterAll(async () => dbs?.close());

const options = {
  batchSize: 50,
  pollIntervalMs: 20,
  maxAttempts: 3,
  backoffBaseMs: 1,
  backoffMaxMs: 2,
  retentionMs: 3_600_000,
};

function fakeTransport(fail: (e: EventEnvelope) => Error | undefined): Transport & { sent: EventEnvelope[] } {
  const sent: EventEnvelope[] = [];
  return {
    name: 'fake',
    sent,
    async publish(e) {
      const err = fail(e);
      if (err) throw err;
      sent.push(e);
    },
    async close() {},
  };
}

const append = (aggregateId: string, eventType: string) =>
  dbs.payment.transaction((trx) =>
    appendEvent(trx, { aggregateType: 'trip', aggregateId, eventType, payload: { tripId: aggregateId } }),
  );

async function drainFor(relay: OutboxRelay, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await relay.drainAll();
    await new Promise((r) => setTimeout(r, 5));
  }
}

it('keeps retrying through an outage longer than max attempts, then delivers; a refused event parks', async () => {
  const id = `trip-${randomUUID()}`;
  const seq = await append(id, 'TripConfirmed');
  let down = 10;
  const transport = fakeTransport((e) =>
    e.id === seq && down-- > 0 ? new TransientPublishError('connect ECONNREFUSED') : undefined,
  );
  const relay = new OutboxRelay([{ name: 'payment', db: dbs.payment }], transport, options);
  await drainFor(relay, 1500);
  const row = await dbs.payment('outbox').where({ event_id: seq }).first();
  expect(row.parked_at).toBeNull();
  expect(row.published_at).not.toBeNull();
  expect(transport.sent.map((e) => e.id)).toEqual([seq]);

  const poison = await append(`trip-${randomUUID()}`, 'TripConfirmed');
  const refusing = fakeTransport((e) => (e.id === poison ? new Error('webhook answered 400') : undefined));
  const relay2 = new OutboxRelay([{ name: 'payment', db: dbs.payment }], refusing, options);
  await drainFor(relay2, 500);
  const parked = await dbs.payment('outbox').where({ event_id: poison }).first();
  expect(parked.parked_at).not.toBeNull();
  expect(Number(parked.attempts)).toBe(3);
});

it('a parked event blocks the later events of its aggregate, not other aggregates', async () => {
  const trip = `trip-${randomUUID()}`;
  const other = `trip-${randomUUID()}`;
  const confirmed = await append(trip, 'TripConfirmed');
  const cancelled = await append(trip, 'TripCancelled');
  const otherEvent = await append(other, 'TripConfirmed');
  const transport = fakeTransport((e) => (e.id === confirmed ? new Error('refused') : undefined));
  const relay = new OutboxRelay([{ name: 'payment', db: dbs.payment }], transport, options);
  await drainFor(relay, 500);
  expect((await dbs.payment('outbox').where({ event_id: confirmed }).first()).parked_at).not.toBeNull();
  const sent = transport.sent.map((e) => e.id);
  expect(sent).toContain(otherEvent);
  expect(sent).not.toContain(cancelled);
  const report = await relay.report();
  expect(report[0]?.blockedByParked).toBeGreaterThanOrEqual(1);
});
