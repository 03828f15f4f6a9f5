/** The booking services through app.inject(), on SQLite and on PostgreSQL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Db } from '../../src/db/knex';
import { buildApp, migrationsFor } from '../../src/services/booking-service';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

const backends = ['sqlite', 'postgres'] as const;

describe.each(backends)('booking services on %s', (backend) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;
  const dbs: Db[] = [];
  let flight: FastifyInstance;
  let payment: FastifyInstance;
  let flightDb: Db;
  let paymentDb: Db;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-svc-'));
    if (backend === 'postgres') pg = await createTestDatabase('svc');
    const config = { dataDir, databaseUrl: pg?.url };
    flightDb = await openDatabase('flight', config, { migrations: migrationsFor('flight') });
    paymentDb = await openDatabase('payment', config, { migrations: migrationsFor('payment') });
    dbs.push(flightDb, paymentDb);
    flight = buildApp({ name: 'flight', db: flightDb });
    payment = buildApp({ name: 'payment', db: paymentDb });
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.destroy()));
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const reserve = (key: string, body: object) =>
    flight.inject({ method: 'POST', url: '/reservations', headers: { 'idempotency-key': key }, payload: body });
  const flightBody = (tripId: string, extra: object = {}) => ({
    tripId,
    flightNumber: 'UA100',
    date: '2027-03-01',
    seats: 1,
    ...extra,
  });
  const count = async (db: Db, table: string) => Number((await db(table).count({ n: '*' }))[0]?.n);

  it('books once for 30 concurrent requests with one key, every answer the same', async () => {
    const tripId = `trip-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => reserve(`${tripId}:flight`, flightBody(tripId))),
    );
    expect(new Set(responses.map((r) => r.statusCode))).toEqual(new Set([201]));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(29);
    const rows = await flightDb('reservations').where({ trip_id: tripId });
    expect(rows).toHaveLength(1);
  });

  it('refuses a late reservation whose cancel arrived first (tombstone), and books nothing', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    const cancel = await flight.inject({
      method: 'POST',
      url: '/reservations/cancel',
      headers: { 'idempotency-key': `${key}:undo` },
      payload: { tripId, idempotencyKey: key },
    });
    expect(cancel.json()).toMatchObject({ outcome: 'TOMBSTONED' });
    const late = await reserve(key, flightBody(tripId));
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'TOMBSTONED' });
    expect(await flightDb('reservations').where({ trip_id: tripId })).toHaveLength(0);
  });

  it('answers a forward request replayed after its undo with 409 IDEMPOTENCY_KEY_UNDONE, never the stale 201', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    expect((await reserve(key, flightBody(tripId))).statusCode).toBe(201);
    const undo = await flight.inject({
      method: 'POST',
      url: '/reservations/cancel',
      headers: { 'idempotency-key': `${key}:undo` },
      payload: { tripId, idempotencyKey: key },
    });
    expect(undo.json()).toMatchObject({ outcome: 'CANCELLED' });
    const again = await reserve(key, flightBody(tripId));
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_UNDONE', undoneBy: `${key}:undo` });
    const rows = await flightDb('reservations').where({ trip_id: tripId });
    expect(rows.map((r) => r.status)).toEqual(['CANCELLED']);

    // The payment service alike: a refunded charge's key answers as undone.
    const chargeKey = `${tripId}:payment`;
    const charge = () =>
      payment.inject({
        method: 'POST',
        url: '/charges',
        headers: { 'idempotency-key': chargeKey },
        payload: { tripId, token: 'tok_visa', amountCents: 100, currency: 'USD' },
      });
    expect((await charge()).statusCode).toBe(201);
    await payment.inject({
      method: 'POST',
      url: '/charges/refund',
      headers: { 'idempotency-key': `${chargeKey}:undo` },
      payload: { tripId, idempotencyKey: chargeKey },
    });
    const recharge = await charge();
    expect(recharge.statusCode).toBe(409);
    expect(recharge.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_UNDONE' });
    expect((await paymentDb('charges').where({ trip_id: tripId })).map((c) => c.status)).toEqual(['REFUNDED']);
  });

  it('keeps replaying a refusal after an undo of its key: only a success is answered as undone', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    const refused = await reserve(key, flightBody(tripId, { flightNumber: 'SOLDOUT1' }));
    expect(refused.json()).toMatchObject({ code: 'SOLD_OUT' });
    await flight.inject({
      method: 'POST',
      url: '/reservations/cancel',
      headers: { 'idempotency-key': `${key}:undo` },
      payload: { tripId, idempotencyKey: key },
    });
    expect((await reserve(key, flightBody(tripId, { flightNumber: 'SOLDOUT1' }))).json()).toMatchObject({
      code: 'SOLD_OUT',
    });
  });

  it('cancels by the forward key once, and answers a repeated cancel without undoing twice', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    await reserve(key, flightBody(tripId, { seats: 3 }));
    const before = await flightDb('allocations').where({ resource_id: 'UA100', day: '2027-03-01' }).first();
    const undo = (k: string) =>
      flight.inject({
        method: 'POST',
        url: '/reservations/cancel',
        headers: { 'idempotency-key': k },
        payload: { tripId, idempotencyKey: key },
      });
    expect((await undo(`${key}:undo`)).json()).toMatchObject({ outcome: 'CANCELLED' });
    expect((await undo(`${key}:undo`)).headers['idempotent-replayed']).toBe('true');
    expect((await undo(`${key}:undo-again`)).json()).toMatchObject({ outcome: 'ALREADY_CANCELLED' });
    const after = await flightDb('allocations').where({ resource_id: 'UA100', day: '2027-03-01' }).first();
    expect(Number(after.reserved)).toBe(Number(before.reserved) - 3);
    const audit = await flight.inject({ method: 'GET', url: `/reservations?tripId=${tripId}` });
    expect(audit.json()).toEqual([expect.objectContaining({ tripId, idempotencyKey: key, status: 'CANCELLED' })]);
  });

  it('still undoes a reservation whose key record was purged, and then refuses the key for good', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    expect((await reserve(key, flightBody(tripId))).statusCode).toBe(201);
    // What the retention purge does to a key, weeks before a confirmed trip is cancelled.
    await flightDb('idempotency_keys').where({ key }).delete();
    const undo = await flight.inject({
      method: 'POST',
      url: '/reservations/cancel',
      headers: { 'idempotency-key': `${key}:undo` },
      payload: { tripId, idempotencyKey: key },
    });
    expect(undo.json()).toMatchObject({ outcome: 'CANCELLED' });
    expect((await flightDb('reservations').where({ trip_id: tripId })).map((r) => r.status)).toEqual(['CANCELLED']);
    expect((await reserve(key, flightBody(tripId))).json()).toMatchObject({ code: 'TOMBSTONED' });
  });

  it('answers a second compensation of a tombstoned key, under another key, without a 503', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    const undo = (k: string) =>
      flight.inject({
        method: 'POST',
        url: '/reservations/cancel',
        headers: { 'idempotency-key': k },
        payload: { tripId, idempotencyKey: key },
      });
    expect((await undo(`${key}:undo`)).json()).toMatchObject({ outcome: 'TOMBSTONED' });
    const again = await undo(`${key}:undo-again`);
    expect({ status: again.statusCode, body: again.json() }).toEqual({
      status: 200,
      body: { outcome: 'TOMBSTONED', idempotencyKey: key },
    });
    expect((await reserve(key, flightBody(tripId))).json()).toMatchObject({ code: 'TOMBSTONED' });
  });

  it('undoes a reservation and a charge once when 10 cancels with different keys race', async () => {
    const tripId = `trip-${randomUUID()}`;
    const key = `${tripId}:flight`;
    await reserve(key, flightBody(tripId, { seats: 2 }));
    await payment.inject({
      method: 'POST',
      url: '/charges',
      headers: { 'idempotency-key': `${tripId}:payment` },
      payload: { tripId, token: 'tok_visa', amountCents: 700, currency: 'USD' },
    });
    const before = await flightDb('allocations').where({ resource_id: 'UA100', day: '2027-03-01' }).first();
    const race = (app: FastifyInstance, url: string, forwardKey: string) =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          app.inject({
            method: 'POST',
            url,
            headers: { 'idempotency-key': `${forwardKey}:undo-${i}` },
            payload: { tripId, idempotencyKey: forwardKey },
          }),
        ),
      );
    const cancels = await race(flight, '/reservations/cancel', key);
    const refunds = await race(payment, '/charges/refund', `${tripId}:payment`);
    expect(cancels.filter((r) => r.json().outcome === 'CANCELLED')).toHaveLength(1);
    expect(refunds.filter((r) => r.json().outcome === 'REFUNDED')).toHaveLength(1);
    const after = await flightDb('allocations').where({ resource_id: 'UA100', day: '2027-03-01' }).first();
    expect(Number(after.reserved)).toBe(Number(before.reserved) - 2);
    const cancelled = await flightDb('outbox').where({ event_type: 'ReservationCancelled' }).select('payload');
    expect(cancelled.filter((e) => String(e.payload).includes(key))).toHaveLength(1);
    const refunded = await paymentDb('outbox').where({ event_type: 'ChargeRefunded' }).select('payload');
    expect(refunded.filter((e) => String(e.payload).includes(tripId))).toHaveLength(1);
  });

  it('stores a sold-out refusal as the outcome of its key, so a retry replays it', async () => {
    const tripId = `trip-${randomUUID()}`;
    const first = await reserve(`${tripId}:flight`, flightBody(tripId, { flightNumber: 'SOLDOUT1' }));
    const again = await reserve(`${tripId}:flight`, flightBody(tripId, { flightNumber: 'SOLDOUT1' }));
    expect(first.statusCode).toBe(409);
    expect(first.json()).toMatchObject({ code: 'SOLD_OUT' });
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('captures, declines and refunds charges by key', async () => {
    const tripId = `trip-${randomUUID()}`;
    const charge = (key: string, token: string) =>
      payment.inject({
        method: 'POST',
        url: '/charges',
        headers: { 'idempotency-key': key },
        payload: { tripId, token, amountCents: 5000, currency: 'USD' },
      });
    expect((await charge(`${tripId}:payment`, 'tok_visa')).statusCode).toBe(201);
    const declined = await charge(`${tripId}-2:payment`, 'tok_declined');
    expect(declined.statusCode).toBe(402);
    expect(declined.json()).toMatchObject({ code: 'PAYMENT_DECLINED' });
    const refund = await payment.inject({
      method: 'POST',
      url: '/charges/refund',
      headers: { 'idempotency-key': `${tripId}:payment:undo` },
      payload: { tripId, idempotencyKey: `${tripId}:payment` },
    });
    expect(refund.json()).toMatchObject({ outcome: 'REFUNDED' });
    const audit = await payment.inject({ method: 'GET', url: `/charges?tripId=${tripId}` });
    expect(audit.json()).toEqual([
      expect.objectContaining({ status: 'REFUNDED', amountCents: 5000, tokenLast4: 'visa' }),
    ]);
  });

  it('purges idempotency keys and tombstones past their retention when it starts, and keeps younger ones', async () => {
    const old = { scope: 'flight', method: 'TOMBSTONE', path: '', fingerprint: 'tombstone', tombstone: true };
    await flightDb('idempotency_keys').insert({ ...old, key: `old-${randomUUID()}`, created_at: 0, last_run_at: 0 });
    const young = `young-${randomUUID()}`;
    await flightDb('idempotency_keys').insert({ ...old, key: young, created_at: Date.now(), last_run_at: Date.now() });
    const restarted = buildApp({ name: 'flight', db: flightDb });
    await restarted.ready();
    try {
      let left = -1;
      for (let i = 0; i < 50 && left !== 0; i++) {
        left = Number((await flightDb('idempotency_keys').where('created_at', '<', 1000).count({ n: '*' }))[0]?.n);
        if (left !== 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(left).toBe(0);
      expect(await flightDb('idempotency_keys').where({ key: young }).first()).toBeDefined();
    } finally {
      await restarted.close();
    }
  });

  describe('rejects bad input with a clear 4xx and writes nothing', () => {
    const cases: Array<
      [
        string,
        () => Promise<{ statusCode: number; headers: Record<string, unknown>; json: () => { code: string } }>,
        number,
        string,
      ]
    > = [
      [
        'malformed JSON',
        () =>
          flight.inject({
            method: 'POST',
            url: '/reservations',
            headers: { 'idempotency-key': 'k-1', 'content-type': 'application/json' },
            payload: '{"tripId":',
          }),
        400,
        'MALFORMED_JSON',
      ],
      [
        'a missing field',
        () => reserve('k-2', { tripId: 'trip-x', flightNumber: 'UA100', seats: 1 }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown flight',
        () => reserve('k-3', flightBody('trip-x', { flightNumber: 'ZZ999' })),
        422,
        'UNKNOWN_FLIGHT',
      ],
      [
        'a negative amount',
        () =>
          payment.inject({
            method: 'POST',
            url: '/charges',
            headers: { 'idempotency-key': 'k-4' },
            payload: { tripId: 'trip-x', token: 'tok_visa', amountCents: -5, currency: 'USD' },
          }),
        400,
        'VALIDATION_FAILED',
      ],
      ['an over-long key', () => reserve('k'.repeat(256), flightBody('trip-x')), 400, 'IDEMPOTENCY_KEY_INVALID'],
      [
        'no key at all',
        () => flight.inject({ method: 'POST', url: '/reservations', payload: flightBody('trip-x') }),
        400,
        'IDEMPOTENCY_KEY_INVALID',
      ],
      [
        'a wrong content type',
        () =>
          flight.inject({
            method: 'POST',
            url: '/reservations',
            headers: { 'idempotency-key': 'k-5', 'content-type': 'text/plain' },
            payload: 'hello',
          }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['an unknown route', () => flight.inject({ method: 'POST', url: '/nope', payload: {} }), 404, 'NOT_FOUND'],
    ];
    it.each(cases)('%s', async (_name, send, status, code) => {
      const beforeKeys = (await count(flightDb, 'idempotency_keys')) + (await count(paymentDb, 'idempotency_keys'));
      const beforeRows = (await count(flightDb, 'reservations')) + (await count(paymentDb, 'charges'));
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect(String(res.headers['content-type'])).toContain('application/problem+json');
      expect(res.json().code).toBe(code);
      expect((await count(flightDb, 'idempotency_keys')) + (await count(paymentDb, 'idempotency_keys'))).toBe(
        beforeKeys,
      );
      expect((await count(flightDb, 'reservations')) + (await count(paymentDb, 'charges'))).toBe(beforeRows);
    });
  });
});
