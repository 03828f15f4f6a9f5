/**
 * Bad input gets a clear 4xx problem, never a 5xx or a framework body (issue 10 items 6, 7, 11):
 * the trip API and the booking services on SQLite and on PostgreSQL, over a real socket so Node's
 * own parser is in the path. No Temporal server: the API's client points at a closed port, which
 * is also what /readyz must report without leaking why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import knexFactory from 'knex';
import { buildApp as buildApi } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { openDatabase, type Db } from '../../src/db/knex';
import { buildApp as buildService, migrationsFor } from '../../src/services/booking-service';
import { signWebhook } from '../../src/outbox/webhook-signature';
import { notificationsMigrations } from '../../src/services/notifications/migrations';
import { buildNotificationsApp } from '../../src/services/notifications/notifications-app';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sendRaw, type RawRequest, type RawResponse } from '../../src/testkit/raw-http';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { insertTrip, openApiDatabase } from '../../src/trips/trip-records';

const TOKEN = 'token-fuzzy-0001';
const auth: [string, string] = ['Authorization', `Bearer ${TOKEN}`];
const json: [string, string] = ['Content-Type', 'application/json'];

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
const countOf = async (db: Db, table: string) => Number(Object.values((await db(table).count({ n: '*' }))[0] ?? {})[0]);

function expectProblem(res: RawResponse, status: number, code: string) {
  expect({ status: res.status, contentType: res.headers['content-type'] }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
  expect(JSON.parse(res.body)).toMatchObject({ status, code });
}

describe.each(['sqlite', 'postgres'] as const)('bad input on %s', (backend) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let apiDb: Db;
  let flightDb: Db;
  let paymentDb: Db;
  let notificationsDb: Db;
  let temporal: Client;
  const apps: Record<'api' | 'flight' | 'payment' | 'notifications', FastifyInstance> = {} as never;
  const secret = 'bad-input-webhook-secret';
  const tripId = `trip-${randomUUID().replace(/-/g, '')}`;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-bad-input-'));
    if (backend === 'postgres') pg = await createTestDatabase('badinput');
    const where = { dataDir, databaseUrl: pg?.url };
    apiDb = await openApiDatabase(where);
    flightDb = await openDatabase('flight', where, { migrations: migrationsFor('flight') });
    paymentDb = await openDatabase('payment', where, { migrations: migrationsFor('payment') });
    notificationsDb = await openDatabase('notifications', where, { migrations: notificationsMigrations });
    // Nothing listens on port 1: every Temporal call fails at once (no retries), as when the cluster is down.
    temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    const config = loadConfig({ DATA_DIR: dataDir });
    apps.api = buildApi({ db: apiDb, temporalClient: temporal, config, tokens: new Map([[TOKEN, 'fuzzy']]) });
    apps.flight = buildService({ name: 'flight', db: flightDb });
    apps.payment = buildService({ name: 'payment', db: paymentDb });
    apps.notifications = buildNotificationsApp({
      db: notificationsDb,
      webhookSecret: secret,
      webhookToleranceMs: 60_000,
    });
    for (const app of Object.values(apps)) await app.listen({ host: '127.0.0.1', port: 0 });
    // A settled trip of the caller's, so a cancel reaches the Idempotency-Key fingerprint.
    await insertTrip(apiDb, { tripId, principal: 'fuzzy', request: sampleTrip(), status: 'CONFIRMED' });
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app?.close();
    await temporal?.connection.close();
    for (const db of [apiDb, flightDb, paymentDb, notificationsDb]) await db?.destroy();
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (to: keyof typeof apps, req: RawRequest) => sendRaw(portOf(apps[to]), req);
  const writes = async () => ({
    apiKeys: await countOf(apiDb, 'idempotency_keys'),
    trips: await countOf(apiDb, 'trips'),
    flightKeys: await countOf(flightDb, 'idempotency_keys'),
    reservations: await countOf(flightDb, 'reservations'),
    paymentKeys: await countOf(paymentDb, 'idempotency_keys'),
    charges: await countOf(paymentDb, 'charges'),
  });

  it('refuses deeply nested JSON with 400 JSON_TOO_DEEP on the API and the services, and writes nothing', async () => {
    const before = await writes();
    const cancel = await send('api', {
      method: 'POST',
      path: `/trips/${tripId}/cancel`,
      headers: [auth, json, ['Idempotency-Key', randomUUID()]],
      body: `{"reason":${nested(20_000)}}`,
    });
    expectProblem(cancel, 400, 'JSON_TOO_DEEP');
    const flightBody = { tripId, flightNumber: 'UA100', date: '2027-03-01', seats: 1 };
    const reserve = await send('flight', {
      method: 'POST',
      path: '/reservations',
      headers: [json, ['Idempotency-Key', randomUUID()]],
      body: `${JSON.stringify(flightBody).slice(0, -1)},"extra":${nested(20_000)}}`,
    });
    expectProblem(reserve, 400, 'JSON_TOO_DEEP');
    const chargeBody = { tripId, token: 'tok_visa', amountCents: 100, currency: 'USD' };
    const charge = await send('payment', {
      method: 'POST',
      path: '/charges',
      headers: [json, ['Idempotency-Key', randomUUID()]],
      body: `${JSON.stringify(chargeBody).slice(0, -1)},"extra":${'{"a":'.repeat(9_000)}1${'}'.repeat(9_000)}}`,
    });
    expectProblem(charge, 400, 'JSON_TOO_DEEP');
    expect(await writes()).toEqual(before);
  });

  it('still accepts a body nested to the documented limit', async () => {
    const ok = await send('flight', {
      method: 'POST',
      path: '/reservations',
      headers: [json, ['Idempotency-Key', randomUUID()]],
      body: JSON.stringify({
        tripId,
        flightNumber: 'UA100',
        date: '2027-03-01',
        seats: 1,
        extra: JSON.parse(nested(31)),
      }),
    });
    expect(ok.status).toBe(201);
  });

  it('refuses a NUL or control character in a path parameter with 400, before any database sees it', async () => {
    const before = await writes();
    expectProblem(
      await send('api', { method: 'GET', path: '/trips/abc%00def', headers: [auth] }),
      400,
      'INVALID_PATH_PARAMETER',
    );
    expectProblem(
      await send('api', {
        method: 'POST',
        path: '/trips/abc%00/cancel',
        headers: [auth, ['Idempotency-Key', randomUUID()]],
      }),
      400,
      'INVALID_PATH_PARAMETER',
    );
    expectProblem(
      await send('api', { method: 'GET', path: '/trips/a%0Ab', headers: [auth] }),
      400,
      'INVALID_PATH_PARAMETER',
    );
    expect(await writes()).toEqual(before);
  });

  it('answers every framework error as problem+json: bad URL, 404, 405, bad JSON, media type, size, bad HTTP', async () => {
    expectProblem(await send('api', { method: 'GET', path: '/trips/%C0%AF', headers: [auth] }), 400, 'BAD_URL');
    expectProblem(await send('flight', { method: 'GET', path: '/reservations/%E0%A4%A' }), 400, 'BAD_URL');
    expectProblem(
      await send('api', { method: 'GET', path: `/trips/${'x'.repeat(150)}`, headers: [auth] }),
      414,
      'URI_TOO_LONG',
    );
    expectProblem(await send('flight', { method: 'GET', path: '/nowhere' }), 404, 'NOT_FOUND');
    const del = await send('api', { method: 'DELETE', path: `/trips/${tripId}`, headers: [auth] });
    expectProblem(del, 405, 'METHOD_NOT_ALLOWED');
    expect(del.headers.allow).toMatch(/GET/);
    expectProblem(await send('flight', { method: 'GET', path: '/reservations/cancel' }), 405, 'METHOD_NOT_ALLOWED');
    const key: [string, string] = ['Idempotency-Key', randomUUID()];
    expectProblem(
      await send('flight', { method: 'POST', path: '/reservations', headers: [json, key], body: '{"tripId": ' }),
      400,
      'MALFORMED_JSON',
    );
    expectProblem(
      await send('flight', { method: 'POST', path: '/reservations', headers: [json, key], body: '' }),
      400,
      'MALFORMED_JSON',
    );
    expectProblem(
      await send('flight', {
        method: 'POST',
        path: '/reservations',
        headers: [['Content-Type', 'text/plain'], key],
        body: 'hello',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await send('payment', {
        method: 'POST',
        path: '/charges',
        headers: [json, key],
        body: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
      }),
      413,
      'BODY_TOO_LARGE',
    );
    // Refused by Node's parser before Fastify sees a request.
    expectProblem(await send('api', { method: 'FOO', path: '/trips' }), 400, 'MALFORMED_REQUEST');
    expectProblem(await send('flight', { method: 'GET', path: '/a b c' }), 400, 'MALFORMED_REQUEST');
    expectProblem(
      await send('flight', { method: 'GET', path: '/healthz', headers: [['X-Big', 'y'.repeat(20_000)]] }),
      431,
      'HEADERS_TOO_LARGE',
    );
  });

  it('refuses a signed event whose strings or timestamp no column can hold with 400, not a 500', async () => {
    const event = {
      id: randomUUID(),
      source: 'flight',
      aggregateType: 'trip',
      aggregateId: tripId,
      type: 'TripConfirmed',
      payload: { tripId, customerId: 'cust-1' },
      createdAt: Date.now(),
    };
    const post = (body: string) =>
      send('notifications', {
        method: 'POST',
        path: '/webhooks/outbox',
        headers: [json, ['X-Outbox-Signature', signWebhook(secret, body)]],
        body,
      });
    expectProblem(await post(JSON.stringify({ ...event, source: 'fl\u0000ight' })), 400, 'VALIDATION_FAILED');
    expectProblem(await post(JSON.stringify({ ...event, createdAt: 1e300 })), 400, 'VALIDATION_FAILED');
    expect(await countOf(notificationsDb, 'inbox')).toBe(0);
    // A payload string no column can hold is left out of the email rather than failing the event.
    const odd = await post(JSON.stringify({ ...event, payload: { tripId: 'a\u0000b', customerId: { x: 1 } } }));
    expect(odd.status).toBe(200);
    expect(await notificationsDb('emails').where({ trip_id: tripId }).select('recipient')).toEqual([
      { recipient: 'unknown-customer@customers.example' },
    ]);
  });

  it('answers /readyz with the dependency that is down and nothing about why', async () => {
    const ready = await send('api', { method: 'GET', path: '/readyz' });
    expectProblem(ready, 503, 'NOT_READY');
    const body = JSON.parse(ready.body);
    expect(body.checks).toEqual({ database: 'ok', temporal: 'unavailable' });
    expect(ready.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|connect|grpc|deadline/i);

    // A database that refuses connections: its driver's message (host, port) stays in the log.
    const deadDb = knexFactory({
      client: 'pg',
      connection: 'postgres://nobody@127.0.0.1:1/none',
      pool: { min: 0, max: 1 },
    });
    const blind = buildApi({ db: deadDb, temporalClient: temporal, config: loadConfig({ DATA_DIR: dataDir }) });
    try {
      await blind.listen({ host: '127.0.0.1', port: 0 });
      const down = await sendRaw(portOf(blind), { method: 'GET', path: '/readyz' });
      expectProblem(down, 503, 'NOT_READY');
      expect(JSON.parse(down.body).checks).toEqual({ database: 'unavailable', temporal: 'unavailable' });
      expect(down.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|nobody|connect/i);
    } finally {
      await blind.close();
      await deadDb.destroy();
    }
  });
});
