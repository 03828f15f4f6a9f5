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
