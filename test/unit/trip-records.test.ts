/** The trips table never goes back: a stale view (a late reader, a retried end record) changes nothing. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { recordTripOutcome } from '../../src/trips/trip-outcome';
import type { TripStatus } from '../../src/shared/trip-status';
import { findTrip, insertTrip, openApiDatabase, updateTripView } from '../../src/trips/trip-records';
import { initialView } from '../../src/shared/trip';
import { sampleTrip } from '../../src/testkit/sample-trip';

let db: Db;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-records-'));
beforeAll(async () => {
  db = await openApiDatabase({ dataDir });
});
afterAll(async () => {
  await db?.destroy();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const view = (tripId: string, status: TripStatus) => ({ ...initialView(tripId), status });

it('moves forward, and refuses a view that would take a trip back', async () => {
  const tripId = `trip-${randomUUID()}`;
  await insertTrip(db, { tripId, principal: 'alice', request: sampleTrip(), status: 'PENDING' });
  expect(await updateTripView(db, view(tripId, 'BOOKING'))).toBe(true);
  expect(await updateTripView(db, view(tripId, 'CONFIRMED'))).toBe(true);
  expect(await updateTripView(db, view(tripId, 'CANCELLING'))).toBe(true);
  expect(await updateTripView(db, view(tripId, 'CONFIRMED'))).toBe(false);
  expect(await updateTripView(db, view(tripId, 'CANCELLED'))).toBe(true);
  expect(await updateTripView(db, view(tripId, 'CONFIRMED'))).toBe(false);
  expect(await updateTripView(db, view(tripId, 'BOOKING'))).toBe(false);
  expect(await updateTripView(db, view(tripId, 'CANCELLED'))).toBe(true);
  expect((await findTrip(db, tripId))?.status).toBe('CANCELLED');
});

it('announces no TripConfirmed when the confirmation is recorded after the cancellation', async () => {
  const tripId = `trip-${randomUUID()}`;
  await insertTrip(db, { tripId, principal: 'alice', request: sampleTrip(), status: 'PENDING' });
  // bookTrip's end record is delayed (the API database hiccuped); the cancellation's lands first.
  await recordTripOutcome(db, view(tripId, 'CANCELLED'));
  expect(await recordTripOutcome(db, view(tripId, 'CONFIRMED'))).toEqual({});
  const events = await db('outbox').where({ aggregate_id: tripId }).select('event_type');
  expect(events.map((e) => e.event_type)).toEqual(['TripCancelled']);
  expect((await findTrip(db, tripId))?.status).toBe('CANCELLED');
});

it('names the owner when the end record is the first to write the row (the API died before recording it)', async () => {
  const tripId = `trip-${randomUUID()}`;
  await recordTripOutcome(db, view(tripId, 'CONFIRMED'), sampleTrip(), 'alice');
  expect((await findTrip(db, tripId))?.principal).toBe('alice');
  // The API's own late insert changes nothing, and never takes the trip away from its owner.
  await insertTrip(db, { tripId, principal: 'bob', request: sampleTrip(), status: 'PENDING' });
  expect(await findTrip(db, tripId)).toMatchObject({ principal: 'alice', status: 'CONFIRMED' });
});

it('announces NEEDS_ATTENTION with a TripNeedsAttention event, once', async () => {
  const tripId = `trip-${randomUUID()}`;
  await insertTrip(db, {
    tripId,
    principal: 'alice',
    request: sampleTrip({ customerId: 'cust-7' }),
    status: 'PENDING',
  });
  const stuck = {
    ...view(tripId, 'NEEDS_ATTENTION'),
    reason: { step: 'car' as const, type: 'SoldOutError', message: 'x' },
  };
  const first = await recordTripOutcome(db, stuck);
  expect(first.eventId).toBeDefined();
  expect(await recordTripOutcome(db, stuck)).toEqual(first);
  const events = await db('outbox').where({ aggregate_id: tripId }).select('event_type', 'payload');
  expect(events.map((e) => e.event_type)).toEqual(['TripNeedsAttention']);
  expect(JSON.parse(String(events[0]?.payload))).toMatchObject({
    tripId,
    customerId: 'cust-7',
    status: 'NEEDS_ATTENTION',
    reason: { step: 'car' },
  });
});
