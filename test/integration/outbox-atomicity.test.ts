/** The outbox commits with the business row or not at all (real PostgreSQL). */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { openDatabase } from '../../src/db/knex';
import { appendEvent } from '../../src/outbox/append-event';
import { recordTripOutcome } from '../../src/trips/trip-outcome';
import { buildApp, migrationsFor } from '../../src/services/booking-service';
import { initialView } from '../../src/shared/trip';
import { apiMigrations, findTrip } from '../../src/trips/trip-records';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sampleTrip } from '../../src/testkit/sample-trip';

let pg: TestDatabase;
const dbs: Knex[] = [];
const open = async (name: 'flight' | 'payment' | 'api') => {
  const db = await openDatabase(
    name,
    { dataDir: '/nonexistent', databaseUrl: pg.url },
    { migrations: name === 'api' ? apiMigrations : migrationsFor(name) },
  );
  dbs.push(db);
  return db;
};
beforeAll(async () => {
  pg = await createTestDatabase('outbox_atomic');
});
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.destroy()));
  await pg?.drop();
});

/** A real socket: fastify's inject pulls an ESM-only dependency jest cannot load. */
const poster = (base: string) => async (url: string, key: string, body: object) => {
  const res = await fetch(base + url, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { statusCode: res.status, json: <T>() => JSON.parse(text) as T };
};

const events = (db: Knex, where: Record<string, unknown>) => db('outbox').where(where).orderBy('seq');

describe('appendEvent', () => {
  it('leaves no outbox row when the business transaction rolls back', async () => {
    const db = await open('payment');
    const aggregateId = randomUUID();
    await expect(
      db.transaction(async (trx) => {
        await appendEvent(trx, {
          aggregateType: 'charge',
          aggregateId,
          eventType: 'ChargeCaptured',
          payload: { x: 1 },
        });
        throw new Error('business rule failed after the append');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await events(db, { aggregate_id: aggregateId })).toHaveLength(0);
  });

  it('always has the event when the business transaction commits', async () => {
    const db = await open('payment');
    const aggregateId = randomUUID();
    const eventId = await db.transaction((trx) =>
      appendEvent(trx, { aggregateType: 'charge', aggregateId, eventType: 'ChargeCaptured', payload: { x: 1 } }),
    );
    const rows = await events(db, { aggregate_id: aggregateId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      event_id: eventId,
      event_type: 'ChargeCaptured',
      published_at: null,
      attempts: 0,
      parked_at: null,
    });
  });
});

describe('services append their events in the request transaction', () => {
  it('emits ReservationCreated with a reservation and nothing for a sold-out request', async () => {
    const db = await open('flight');
    const app = buildApp({ name: 'flight', db });
    const tripId = `trip-${randomUUID()}`;
    const post = poster(await app.listen({ host: '127.0.0.1', port: 0 }));
    const ok = await post('/reservations', `${tripId}:flight`, { tripId, ...sampleTrip().flight });
    expect(ok.statusCode).toBe(201);
    const soldOut = await post('/reservations', `${tripId}:flight2`, {
      tripId,
      ...sampleTrip().flight,
      flightNumber: 'SOLDOUT1',
    });
    expect(soldOut.statusCode).toBe(409);
    const reservationId = ok.json<{ id: string }>().id;
    expect(
      (await db('outbox').where({ event_type: 'ReservationCreated' })).map(
        (r: { aggregate_id: string }) => r.aggregate_id,
      ),
    ).toEqual([reservationId]);
    // A replay of the same key changes nothing, so it emits nothing either.
    expect((await post('/reservations', `${tripId}:flight`, { tripId, ...sampleTrip().flight })).statusCode).toBe(201);
    const cancel = await post('/reservations/cancel', `${tripId}:flight:undo`, {
      tripId,
      idempotencyKey: `${tripId}:flight`,
    });
    expect(cancel.statusCode).toBe(200);
    const all = await events(db, { aggregate_id: reservationId });
    expect(all.map((r: { event_type: string }) => r.event_type)).toEqual([
      'ReservationCreated',
      'ReservationCancelled',
    ]);
    expect(JSON.parse(all[1].payload)).toMatchObject({ service: 'flight', tripId, status: 'CANCELLED' });
    await app.close();
  });

  it('emits ChargeCaptured and ChargeRefunded, and nothing for a declined card', async () => {
    const db = await open('payment');
    const app = buildApp({ name: 'payment', db });
    const tripId = `trip-${randomUUID()}`;
    const post = poster(await app.listen({ host: '127.0.0.1', port: 0 }));
    expect((await post('/charges', `${tripId}:payment`, { tripId, ...sampleTrip().payment })).statusCode).toBe(201);
    expect(
      (await post('/charges', `${tripId}:declined`, { tripId, ...sampleTrip().payment, token: 'tok_declined' }))
        .statusCode,
    ).toBe(402);
    expect(
      (await post('/charges/refund', `${tripId}:payment:undo`, { tripId, idempotencyKey: `${tripId}:payment` }))
        .statusCode,
    ).toBe(200);
    const rows = (await db('outbox').orderBy('seq')).filter(
      (r: { payload: string }) => JSON.parse(r.payload).tripId === tripId,
    );
    expect(rows.map((r: { event_type: string }) => r.event_type)).toEqual(['ChargeCaptured', 'ChargeRefunded']);
    await app.close();
  });
});

describe('recordTripOutcome', () => {
  it('writes the trip row and one TripConfirmed event, however often the activity retries', async () => {
    const db = await open('api');
    const tripId = `trip-${randomUUID()}`;
    const view = { ...initialView(tripId), status: 'CONFIRMED' as const };
    await recordTripOutcome(db, view, sampleTrip());
    await recordTripOutcome(db, view, sampleTrip());
    expect((await findTrip(db, tripId))?.status).toBe('CONFIRMED');
    const rows = await events(db, { aggregate_id: tripId });
    expect(rows.map((r: { event_type: string }) => r.event_type)).toEqual(['TripConfirmed']);
    expect(JSON.parse(rows[0].payload)).toMatchObject({
      tripId,
      customerId: sampleTrip().customerId,
      status: 'CONFIRMED',
    });
  });
});
