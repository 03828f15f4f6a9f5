/**
 * The choreographed trip on the real pieces: the four services with their participants, the relay
 * to NATS JetStream (a private stream), the projection and the notifications consumer. Every trip
 * ends consistent through the audit endpoints (invariant 1), the projection shows the same view
 * as an orchestrated trip, and the outcome email goes out once.
 */
import { randomUUID } from 'node:crypto';
import { CHOREOGRAPHY_AGGREGATE } from '../../src/choreography/events';
import { subjectFor } from '../../src/outbox/nats-stream';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { startChoreographyStack, type ChoreographyStack } from '../../src/testkit/choreography-stack';

let pg: TestDatabase;
let stack: ChoreographyStack;
beforeAll(async () => {
  pg = await createTestDatabase('choreo');
  stack = await startChoreographyStack({ databaseUrl: pg.url });
});
afterAll(async () => {
  await stack?.stop();
  await pg?.drop();
});

const emailsOf = async (tripId: string, count = 1, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows: Array<{ kind: string }> = await stack.notificationsDb('emails').where({ trip_id: tripId });
    if (rows.length >= count || Date.now() > deadline) return rows.map((r) => r.kind);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const statuses = (view: { steps: Record<string, { status: string }> }) =>
  Object.fromEntries(Object.entries(view.steps).map(([k, s]) => [k, s.status]));

it('confirms a trip through events alone: one reservation per service, one capture, one confirmation email', async () => {
  const tripId = await stack.book(sampleTrip());
  const view = await stack.waitForEnd(tripId);
  expect(view.status).toBe('CONFIRMED');
  expect(statuses(view)).toEqual({ flight: 'DONE', hotel: 'DONE', car: 'DONE', payment: 'DONE' });
  const audit = await auditTrip(stack.config, tripId);
  expect(invariantViolations(view.status, audit)).toEqual([]);
  // Keyed like the orchestrated saga: `<tripId>:<step>`.
  expect(audit.flight.map((r) => r.idempotencyKey)).toEqual([`${tripId}:flight`]);
  expect(audit.payment.map((r) => r.idempotencyKey)).toEqual([`${tripId}:payment`]);
  expect(await emailsOf(tripId)).toEqual(['confirmation']);
});

describe.each([
  ['flight', { flight: { flightNumber: 'SOLDOUT1' } }, 'SoldOutError', { flight: 'FAILED', hotel: 'PENDING' }],
  ['hotel', { hotel: { hotelId: 'H-FULL' } }, 'SoldOutError', { flight: 'COMPENSATED', hotel: 'FAILED' }],
  ['car', { car: { location: 'NOWHERE' } }, 'SoldOutError', { hotel: 'COMPENSATED', car: 'FAILED' }],
  [
    'payment',
    { payment: { token: 'tok_declined' } },
    'PaymentDeclinedError',
    { flight: 'COMPENSATED', hotel: 'COMPENSATED', car: 'COMPENSATED', payment: 'FAILED' },
  ],
] as const)('a failure at the %s step', (step, overrides, type, expectedSteps) => {
  it('is compensated in reverse through events and leaves nothing active or captured', async () => {
    const tripId = await stack.book(sampleTrip(overrides));
    const view = await stack.waitForEnd(tripId);
    expect(view.status).toBe('COMPENSATED');
    expect(view.reason).toMatchObject({ step, type });
    expect(statuses(view)).toMatchObject(expectedSteps);
    const audit = await auditTrip(stack.config, tripId);
    expect(invariantViolations(view.status, audit)).toEqual([]);
    // What was reserved before the failure exists, cancelled: the compensation really ran.
    const before = ['flight', 'hotel', 'car'].slice(0, ['flight', 'hotel', 'car', 'payment'].indexOf(step));
    for (const s of before) {
      expect(audit[s as 'flight'].map((r) => r.status)).toEqual(['CANCELLED']);
    }
    expect(await emailsOf(tripId)).toEqual(['booking-failed']);
  });
});

it('runs each step once per trip even when the start is requested twice', async () => {
  const tripId = `trip-choreo-twice-${Date.now()}`;
  await Promise.all([stack.book(sampleTrip(), tripId), stack.book(sampleTrip(), tripId)]);
  const view = await stack.waitForEnd(tripId);
  expect(view.status).toBe('CONFIRMED');
  const audit = await auditTrip(stack.config, tripId);
  expect([audit.flight.length, audit.hotel.length, audit.car.length, audit.payment.length]).toEqual([1, 1, 1, 1]);
  const started = await stack.apiDb('outbox').where({ aggregate_id: tripId, event_type: 'TripRequested' });
  expect(started).toHaveLength(1);
});

it('books nothing for a TripRequested that the relay did not sign', async () => {
  // Anyone who reaches NATS could publish this: the participants must refuse it, not book it.
  const forged = `trip-choreo-forged-${Date.now()}`;
  const envelope = {
    id: randomUUID(),
    source: 'api',
    aggregateType: CHOREOGRAPHY_AGGREGATE,
    aggregateId: forged,
    type: 'TripRequested',
    payload: { tripId: forged, request: sampleTrip() },
    createdAt: Date.now(),
  };
  const ack = await stack.nc
    .jetstream()
    .publish(subjectFor(stack.config.outbox.subjectPrefix, CHOREOGRAPHY_AGGREGATE), JSON.stringify(envelope));
  // A signed trip booked after it goes all the way through.
  const tripId = await stack.book(sampleTrip());
  expect((await stack.waitForEnd(tripId)).status).toBe('CONFIRMED');
  // And the flight participant has dealt with the forged message (terminated, nothing pending).
  const jsm = await stack.nc.jetstreamManager();
  for (const deadline = Date.now() + 20_000; ;) {
    const info = await jsm.consumers.info(stack.config.outbox.stream, 'choreography-flight');
    if (info.delivered.stream_seq >= ack.seq && info.num_ack_pending === 0) break;
    if (Date.now() > deadline) throw new Error('the flight participant never took the forged message');
    await new Promise((r) => setTimeout(r, 100));
  }
  const audit = await auditTrip(stack.config, forged);
  expect([audit.flight.length, audit.hotel.length, audit.car.length, audit.payment.length]).toEqual([0, 0, 0, 0]);
});
