/**
 * The trip API end to end: real Temporal dev server, real services and worker, the API database
 * on SQLite and on PostgreSQL. Every Idempotency-Key rule of issue 3 is one test here.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import { startBookTrip, tripIdFor } from '../../src/trips/trip-workflows';
import type { Config } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { fingerprintOf } from '../../src/idempotency/fingerprint';
import { OUTBOX_TABLE } from '../../src/outbox/outbox-table';
import { insertTrip, openApiDatabase, updateTripView } from '../../src/trips/trip-records';
import { initialView } from '../../src/shared/trip';
import { createTripWorker } from '../../src/workers/create-worker';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { auditTrip, freePort, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';

const ALICE = 'token-alice-0001';
const BOB = 'token-bob-00002';
const CAROL = 'token-carol-003';
const DAVE = 'token-dave-0004';
const TOKENS = new Map([
  [ALICE, 'alice'],
  [BOB, 'bob'],
  [CAROL, 'carol'],
  [DAVE, 'dave'],
]);

let stack: Stack;
let flakyPayment: http.Server;
/**
 * A worker whose payment service refuses every charge with a 503 (a transient error, retried)
 * but refunds through the real one: its trips stay BOOKING until cancelled, and can be undone.
 */
let stalled: { worker: Worker; connection: NativeConnection; apiDb: Db; running: Promise<void>; taskQueue: string };

beforeAll(async () => {
  stack = await startStack();
  const taskQueue = `stalled-${randomUUID()}`;
  const realPayment = stack.config.services.payment.url;
  flakyPayment = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/charges/refund') {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"UNAVAILABLE"}');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => ['content-type', 'idempotency-key'].includes(k)),
      ) as Record<string, string>;
      fetch(`${realPayment}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (r) =>
          res
            .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
            .end(await r.text()),
        )
        .catch(() => res.writeHead(502).end());
    });
  });
  const flakyPort = await freePort();
  await new Promise<void>((resolve) => flakyPayment.listen(flakyPort, '127.0.0.1', resolve));
  const deadPayment = `http://127.0.0.1:${flakyPort}`;
  const config: Config = {
    ...stack.config,
    temporal: { ...stack.config.temporal, taskQueue },
    services: { ...stack.config.services, payment: { port: 1, url: deadPayment } },
  };
  const { worker, connection, apiDb } = await createTripWorker(config);
  stalled = { worker, connection, apiDb, running: worker.run(), taskQueue };
}, 180_000);

afterAll(async () => {
  if (stalled) {
    stalled.worker.shutdown();
    await stalled.running.catch(() => undefined);
    await stalled.connection.close();
    await stalled.apiDb.destroy();
  }
  await stack?.stop();
  await new Promise((r) => (flakyPayment ? flakyPayment.close(r) : r(undefined)));
}, 120_000);

interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

/**
 * A request over a real socket (Fastify's inject() loads light-my-request, whose ESM-only
 * `cookie` dependency jest cannot parse here).
 */
async function hit(
  app: FastifyInstance,
  opts: { method: string; url: string; headers?: Record<string, string | string[]>; payload?: string },
): Promise<Reply> {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
  }
  const address = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${address.port}${opts.url}`, {
    method: opts.method,
    headers,
    body: opts.payload,
  });
  const body = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: () => JSON.parse(body) };
}

const countOf = async (q: Promise<unknown[]>) => Number(Object.values((await q)[0] as object)[0]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `target` with some properties replaced (methods of the rest stay bound to it). */
const bind = <T extends object>(target: T, override: Record<string | symbol, unknown>): T =>
  new Proxy(target, {
    get: (t, p) => {
      if (p in override) return override[p];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });

describe.each(['SQLite', 'PostgreSQL'] as const)('trip API with its database on %s', (kind) => {
  let db: Db;
  let pgDatabase: TestDatabase | undefined;
  let dataDir: string;
  let app: FastifyInstance;
  let offsetMs = 0;
  const clock = () => Date.now() + offsetMs;
  const apps: FastifyInstance[] = [];

  const openDb = () => openApiDatabase({ dataDir, databaseUrl: pgDatabase?.url });
  const makeApp = async (overrides: { taskQueue?: string; purgeIntervalMs?: number; lockTimeoutMs?: number } = {}) => {
    const base = stack.config;
    const a = buildApp({
      db,
      temporalClient: stack.client,
      tokens: TOKENS,
      clock,
      logger: process.env.API_TEST_LOG ? { level: process.env.API_TEST_LOG } : false,
      config: {
        temporal: { ...base.temporal, taskQueue: overrides.taskQueue ?? base.temporal.taskQueue },
        api: {
          ...base.api,
          idempotencyLockTimeoutMs: overrides.lockTimeoutMs ?? base.api.idempotencyLockTimeoutMs,
          idempotencyPurgeIntervalMs: overrides.purgeIntervalMs ?? base.api.idempotencyPurgeIntervalMs,
        },
      },
    });
    apps.push(a);
    await a.listen({ host: '127.0.0.1', port: 0 });
    return a;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-api-test-'));
    if (kind === 'PostgreSQL') pgDatabase = await createTestDatabase('api');
    db = await openDb();
    app = await makeApp();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db?.destroy();
    await pgDatabase?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(() => {
    offsetMs = 0;
  });

  const post = (
    body: unknown,
    opts: {
      key?: string | string[];
      token?: string;
      headers?: Record<string, string>;
      url?: string;
      on?: FastifyInstance;
    } = {},
  ) =>
    hit(opts.on ?? app, {
      method: 'POST',
      url: opts.url ?? '/trips',
      headers: {
        authorization: `Bearer ${opts.token ?? ALICE}`,
        'content-type': 'application/json',
        ...(opts.key !== undefined ? { 'idempotency-key': opts.key } : {}),
        ...opts.headers,
      },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (url: string, token = ALICE) =>
    hit(app, { method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const cancel = (tripId: string, opts: { token?: string; key?: string } = {}) =>
    hit(app, {
      method: 'POST',
      url: `/trips/${tripId}/cancel`,
      headers: { authorization: `Bearer ${opts.token ?? ALICE}`, ...(opts.key ? { 'idempotency-key': opts.key } : {}) },
    });
  const keyRows = (principal: string, key: string) =>
    countOf(db('idempotency_keys').where({ scope: principal, key }).count({ n: '*' }));
  const tripRows = (tripId: string) => countOf(db('trips').where({ trip_id: tripId }).count({ n: '*' }));
  const allRows = async () => ({
    keys: await countOf(db('idempotency_keys').count({ n: '*' })),
    trips: await countOf(db('trips').count({ n: '*' })),
  });
  const runsOf = async (workflowId: string) => {
    const runs: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(wf.runId);
    return runs;
  };
  const untilSettled = async (tripId: string, token = ALICE) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let body: any = {};
    for (let i = 0; i < 200; i++) {
      body = (await get(`/trips/${tripId}`, token)).json();
      if (['CONFIRMED', 'COMPENSATED', 'CANCELLED', 'NEEDS_ATTENTION'].includes(body.status)) return body;
      await sleep(100);
    }
    throw new Error(`trip ${tripId} did not settle: ${JSON.stringify(body)}`);
  };
  const expectProblem = (res: Reply, status: number, code: string) => {
    expect({ status: res.statusCode, type: res.headers['content-type'] }).toEqual({
      status,
      type: 'application/problem+json; charset=utf-8',
    });
    expect(res.json()).toMatchObject({
      status,
      code,
      type: `urn:trip-saga:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    });
  };

  it('answers 202 with the trip, its Location and links once the workflow has durably started', async () => {
    const key = randomUUID();
    const res = await post(sampleTrip(), { key });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.tripId).toBe(tripIdFor('alice', key));
    expect(body).toMatchObject({
      status: 'PENDING',
      links: { self: `/trips/${body.tripId}`, cancel: `/trips/${body.tripId}/cancel` },
    });
    expect(res.headers.location).toBe(`/trips/${body.tripId}`);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect((await stack.client.workflow.getHandle(body.tripId).describe()).type).toBe('bookTrip');
    const settled = await untilSettled(body.tripId);
    expect(settled.status).toBe('CONFIRMED');
    expect(settled.steps.payment.status).toBe('DONE');
    expect(invariantViolations('CONFIRMED', await auditTrip(stack.config, body.tripId))).toEqual([]);
  });

  it('waits for the terminal status with Prefer: wait=N and answers with it', async () => {
    const res = await post(sampleTrip(), { key: randomUUID(), headers: { prefer: 'wait=20' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['preference-applied']).toBe('wait=20');
    expect(res.json()).toMatchObject({ status: 'CONFIRMED', steps: { flight: { status: 'DONE' } } });
  });

  it('replays the stored response byte for byte with Idempotent-Replayed and starts nothing twice', async () => {
    const key = randomUUID();
    const first = await post(sampleTrip(), { key, headers: { prefer: 'wait=20' } });
    // Key order and whitespace differ; the canonical body is the same request.
    const { payment, ...rest } = sampleTrip();
    const second = await post(`{ "payment": ${JSON.stringify(payment)}, ${JSON.stringify(rest).slice(1)}`, { key });
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const tripId = first.json().tripId as string;
    expect(await runsOf(tripId)).toHaveLength(1);
    expect(await tripRows(tripId)).toBe(1);
    const audit = await auditTrip(stack.config, tripId);
    expect([audit.flight.length, audit.hotel.length, audit.car.length, audit.payment.length]).toEqual([1, 1, 1, 1]);
  });

  it('refuses the key with another body, path or method with 422, and the original still replays', async () => {
    const key = randomUUID();
    const first = await post(sampleTrip(), { key });
    const tripId = first.json().tripId as string;
    expectProblem(await post(sampleTrip({ flight: { seats: 2 } }), { key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectProblem(await cancel(tripId, { key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    const replay = await post(sampleTrip(), { key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
    expect(await runsOf(tripId)).toHaveLength(1);
  });

  it.each([
    ['missing', undefined, 'IDEMPOTENCY_KEY_MISSING'],
    ['empty', '', 'IDEMPOTENCY_KEY_INVALID'],
    ['empty sf-string', '""', 'IDEMPOTENCY_KEY_INVALID'],
    ['too long', 'k'.repeat(256), 'IDEMPOTENCY_KEY_INVALID'],
    ['sent twice', ['a-key-1', 'a-key-2'], 'IDEMPOTENCY_KEY_INVALID'],
    ['not visible ASCII', 'key with spaces', 'IDEMPOTENCY_KEY_INVALID'],
  ])('answers 400 to a %s key and stores nothing', async (_label, key, code) => {
    const before = await allRows();
    expectProblem(await post(sampleTrip(), { key }), 400, code);
    expect(await allRows()).toEqual(before);
  });

  it('accepts the key as an sf-string and as a bare token of 255 characters', async () => {
    const quoted = await post(sampleTrip(), { key: `"${randomUUID()}"` });
    expect(quoted.statusCode).toBe(202);
    const long = `${randomUUID()}${'x'.repeat(255 - 36)}`;
    expect((await post(sampleTrip(), { key: long })).statusCode).toBe(202);
    expect(await keyRows('alice', long)).toBe(1);
  });

  it('stores nothing for a request that fails validation, so a corrected retry with the same key runs', async () => {
    const key = randomUUID();
    const bad = await post(
      { ...sampleTrip(), flight: { flightNumber: 'UA100', date: '2027-02-30', seats: 1 } },
      { key },
    );
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    expect(bad.json().errors.join()).toMatch(/flight\.date/);
    expect(await keyRows('alice', key)).toBe(0);
    const good = await post(sampleTrip(), { key });
    expect(good.statusCode).toBe(202);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 with Retry-After while the first request is in flight, then replays it', async () => {
    // No worker polls this queue: the first request holds its claim for its whole Prefer: wait.
    const idle = await makeApp({ taskQueue: `idle-${randomUUID()}` });
    const key = randomUUID();
    const first = post(sampleTrip(), { key, on: idle, headers: { prefer: 'wait=2' } });
    await sleep(500);
    const during = await post(sampleTrip(), { key, on: idle });
    expectProblem(during, 409, 'REQUEST_IN_FLIGHT');
    expect(Number(during.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const done = await first;
    expect(done.statusCode).toBe(202);
    const after = await post(sampleTrip(), { key, on: idle });
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(after.body).toBe(done.body);
  });

  it('makes exactly one trip out of 50 concurrent identical POSTs', async () => {
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(sampleTrip(), { key })));
    const statuses = new Set(responses.map((r) => r.statusCode));
    expect([...statuses].every((s) => s === 202 || s === 409)).toBe(true);
    const fresh = responses.filter((r) => r.statusCode === 202 && r.headers['idempotent-replayed'] === undefined);
    expect(fresh).toHaveLength(1);
    const tripId = tripIdFor('alice', key);
    for (const r of responses.filter((x) => x.statusCode === 202)) expect(r.body).toBe(fresh[0]?.body);
    expect(await tripRows(tripId)).toBe(1);
    expect(await keyRows('alice', key)).toBe(1);
    await untilSettled(tripId);
    expect(await runsOf(tripId)).toHaveLength(1);
    const audit = await auditTrip(stack.config, tripId);
    expect([audit.flight.length, audit.payment.length]).toEqual([1, 1]);
  });

  it('finishes a request whose process died after the claim, taking the lock over once it expired', async () => {
    const key = randomUUID();
    const request = sampleTrip();
    const tripId = tripIdFor('alice', key);
    // The dead process claimed the key and started the workflow, then never answered.
    const claim = await app.idempotencyStore.claim({
      scope: 'alice',
      key,
      method: 'POST',
      path: '/trips',
      fingerprint: fingerprintOf('POST', '/trips', request),
    });
    expect(claim.kind).toBe('claimed');
    await stack.client.workflow.start('bookTrip', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: tripId,
      args: [request],
    });
    expectProblem(await post(request, { key }), 409, 'REQUEST_IN_FLIGHT');
    offsetMs = stack.config.api.idempotencyLockTimeoutMs + 1000;
    const retry = await post(request, { key });
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json().tripId).toBe(tripId);
    expect(await tripRows(tripId)).toBe(1);
    expect((await untilSettled(tripId)).status).toBe('CONFIRMED');
    expect(await runsOf(tripId)).toHaveLength(1);
    expect((await auditTrip(stack.config, tripId)).flight).toHaveLength(1);
  });

  it('gives the trip to its owner when the API died before recording it and the retry comes after the run ended', async () => {
    // A worker whose end record writes to this test's API database, as the real worker does.
    const taskQueue = `late-${randomUUID()}`;
    const late = await createTripWorker({
      ...stack.config,
      dataDir,
      databaseUrl: pgDatabase?.url,
      temporal: { ...stack.config.temporal, taskQueue },
    });
    const running = late.worker.run();
    try {
      const lateApp = await makeApp({ taskQueue });
      const key = randomUUID();
      const request = sampleTrip();
      const tripId = tripIdFor('alice', key);
      const claim = await lateApp.idempotencyStore.claim({
        scope: 'alice',
        key,
        method: 'POST',
        path: '/trips',
        fingerprint: fingerprintOf('POST', '/trips', request),
      });
      expect(claim.kind).toBe('claimed');
      // The dead process started the run as the API does, then died before it recorded the trip.
      await startBookTrip(stack.client, taskQueue, tripId, request, 'alice');
      await stack.client.workflow.getHandle(tripId).result();
      // The worker's end record wrote the row first, and it knew the owner.
      expect(await db('trips').where({ trip_id: tripId }).first()).toMatchObject({
        principal: 'alice',
        status: 'CONFIRMED',
      });
      // A row an older worker wrote without its owner: the retry repairs it.
      await db('trips').where({ trip_id: tripId }).update({ principal: null });
      offsetMs = stack.config.api.idempotencyLockTimeoutMs + 1000;
      const retry = await post(request, { key, on: lateApp });
      expect(retry.statusCode).toBe(201);
      expect(retry.json()).toMatchObject({ tripId, status: 'CONFIRMED' });
      expect((await get(`/trips/${tripId}`)).statusCode).toBe(200);
      expectProblem(await get(`/trips/${tripId}`, BOB), 404, 'TRIP_NOT_FOUND');
      const listed = (await get('/trips?status=CONFIRMED&limit=200')).json().trips as Array<{ tripId: string }>;
      expect(listed.map((t) => t.tripId)).toContain(tripId);
      const cancelled = await hit(lateApp, {
        method: 'POST',
        url: `/trips/${tripId}/cancel`,
        headers: { authorization: `Bearer ${ALICE}`, prefer: 'wait=20' },
      });
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json().status).toBe('CANCELLED');
      expect(invariantViolations('CANCELLED', await auditTrip(stack.config, tripId))).toEqual([]);
      expect(await runsOf(tripId)).toHaveLength(1);
    } finally {
      late.worker.shutdown();
      await running.catch(() => undefined);
      await late.connection.close();
      await late.apiDb.destroy();
    }
  });

  it('lists past 200 trips: the status filter in SQL, cursor pages with a next link', async () => {
    const request = sampleTrip();
    const base = Date.now() - 3_600_000;
    const seed = async (status: 'CONFIRMED' | 'COMPENSATED', at: number) => {
      const tripId = `trip-${randomUUID()}`;
      await insertTrip(db, { tripId, principal: 'carol', request, status: 'PENDING' });
      await updateTripView(db, { ...initialView(tripId), status });
      await db('trips').where({ trip_id: tripId }).update({ created_at: at });
      return tripId;
    };
    // One older CONFIRMED trip behind 200 newer COMPENSATED ones (all settled: no Temporal call).
    const old = await seed('CONFIRMED', base);
    const newer: string[] = [];
    for (let i = 1; i <= 200; i++) newer.push(await seed('COMPENSATED', base + i));
    const confirmed = (await get('/trips?status=CONFIRMED', CAROL)).json();
    expect(confirmed.trips.map((t: { tripId: string }) => t.tripId)).toEqual([old]);
    expect(confirmed.links?.next).toBeUndefined();

    // Every trip exactly once, newest first, following next links of 75.
    const seen: string[] = [];
    let url: string | undefined = '/trips?limit=75';
    let pages = 0;
    while (url) {
      const page = await get(url, CAROL);
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.trips.length).toBeLessThanOrEqual(75);
      seen.push(...body.trips.map((t: { tripId: string }) => t.tripId));
      url = body.links?.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...newer].reverse().concat(old));
    // The filter applies inside each page's query: 200 COMPENSATED trips in pages of 150.
    const first = (await get('/trips?status=COMPENSATED&limit=150', CAROL)).json();
    expect(first.trips).toHaveLength(150);
    expect(first.links.next).toMatch(/status=COMPENSATED/);
    const second = (await get(first.links.next, CAROL)).json();
    expect(second.trips).toHaveLength(50);
    expectProblem(await get('/trips?limit=0', CAROL), 400, 'VALIDATION_FAILED');
    expectProblem(await get('/trips?limit=201', CAROL), 400, 'VALIDATION_FAILED');
    expectProblem(await get('/trips?cursor=not-a-cursor', CAROL), 400, 'VALIDATION_FAILED');
  });

  it('reads the unsettled trips of a page from Temporal a few at a time, not all at once', async () => {
    const real = stack.client;
    let inFlight = 0;
    let peak = 0;
    const counting = bind(real, {
      workflow: bind(real.workflow, {
        getHandle: (workflowId: string) => {
          const handle = real.workflow.getHandle(workflowId);
          return bind(handle, {
            describe: async () => {
              inFlight++;
              peak = Math.max(peak, inFlight);
              try {
                await sleep(20);
                return await handle.describe();
              } finally {
                inFlight--;
              }
            },
          });
        },
      }),
    });
    const listing = buildApp({
      db,
      temporalClient: counting,
      tokens: TOKENS,
      clock,
      logger: false,
      config: { temporal: stack.config.temporal, api: stack.config.api },
    });
    apps.push(listing);
    await listing.listen({ host: '127.0.0.1', port: 0 });
    // 20 trips the API recorded as PENDING whose runs Temporal does not know: each costs a describe.
    const pending: string[] = [];
    for (let i = 0; i < 20; i++) {
      const tripId = `trip-${randomUUID()}`;
      await insertTrip(db, { tripId, principal: 'dave', request: sampleTrip(), status: 'PENDING' });
      pending.push(tripId);
    }
    const page = await hit(listing, {
      method: 'GET',
      url: '/trips?limit=50',
      headers: { authorization: `Bearer ${DAVE}` },
    });
    expect(page.statusCode).toBe(200);
    expect(
      page
        .json()
        .trips.map((t: { tripId: string }) => t.tripId)
        .sort(),
    ).toEqual([...pending].sort());
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('replays a completed key after the API process restarts', async () => {
    const key = randomUUID();
    const first = await post(sampleTrip(), { key });
    await app.close();
    await db.destroy();
    db = await openDb();
    app = await makeApp();
    const replay = await post(sampleTrip(), { key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.statusCode).toBe(first.statusCode);
    expect(replay.body).toBe(first.body);
    expect(await runsOf(first.json().tripId)).toHaveLength(1);
  });

  it('purges keys past the retention period with the periodic job, and keeps younger ones', async () => {
    const oldKey = randomUUID();
    const youngKey = randomUUID();
    offsetMs = -(stack.config.api.idempotencyRetentionMs + 60_000);
    expect((await post(sampleTrip(), { key: oldKey })).statusCode).toBe(202);
    offsetMs = -(stack.config.api.idempotencyRetentionMs - 60_000);
    expect((await post(sampleTrip(), { key: youngKey })).statusCode).toBe(202);
    offsetMs = 0;
    const purging = await makeApp({ purgeIntervalMs: 100 });
    for (let i = 0; i < 50 && (await keyRows('alice', oldKey)) > 0; i++) await sleep(100);
    expect(await keyRows('alice', oldKey)).toBe(0);
    expect(await keyRows('alice', youngKey)).toBe(1);
    await purging.close();
  });

  it('scopes keys per principal: the same key from two principals is two trips', async () => {
    const key = randomUUID();
    const a = await post(sampleTrip(), { key, token: ALICE });
    const b = await post(sampleTrip(), { key, token: BOB });
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(a.json().tripId).not.toBe(b.json().tripId);
  });

  it("shows and cancels only the caller's own trips (another's is a 404)", async () => {
    const tripId = (await post(sampleTrip(), { key: randomUUID() })).json().tripId as string;
    expect((await get(`/trips/${tripId}`)).statusCode).toBe(200);
    expectProblem(await get(`/trips/${tripId}`, BOB), 404, 'TRIP_NOT_FOUND');
    expectProblem(await cancel(tripId, { token: BOB }), 404, 'TRIP_NOT_FOUND');
    expectProblem(await get('/trips/trip-unknown'), 404, 'TRIP_NOT_FOUND');
    const bobs = (await get('/trips', BOB)).json().trips as Array<{ tripId: string }>;
    expect(bobs.map((t) => t.tripId)).not.toContain(tripId);
  });

  it('answers 401 without a token or with an unknown one, and keeps health probes public', async () => {
    expectProblem(await hit(app, { method: 'GET', url: '/trips' }), 401, 'UNAUTHORIZED');
    const bad = await get('/trips', 'not-a-token');
    expectProblem(bad, 401, 'UNAUTHORIZED');
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer/);
    const before = await allRows();
    expectProblem(await post(sampleTrip(), { key: randomUUID(), token: 'nope-nope-nope' }), 401, 'UNAUTHORIZED');
    expect(await allRows()).toEqual(before);
    expect((await hit(app, { method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await hit(app, { method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ database: 'ok', temporal: 'ok' });
  });

  it('lists the caller’s trips filtered by status', async () => {
    const confirmed = (
      await post(sampleTrip(), { key: randomUUID(), token: BOB, headers: { prefer: 'wait=20' } })
    ).json();
    const failed = (
      await post(sampleTrip({ hotel: { hotelId: 'H-FULL' } }), {
        key: randomUUID(),
        token: BOB,
        headers: { prefer: 'wait=20' },
      })
    ).json();
    expect([confirmed.status, failed.status]).toEqual(['CONFIRMED', 'COMPENSATED']);
    const compensated = (await get('/trips?status=COMPENSATED', BOB)).json().trips as Array<{
      tripId: string;
      status: string;
    }>;
    expect(compensated.map((t) => t.tripId)).toContain(failed.tripId);
    expect(compensated.map((t) => t.tripId)).not.toContain(confirmed.tripId);
    expect(compensated.every((t) => t.status === 'COMPENSATED')).toBe(true);
    expectProblem(await get('/trips?status=LOST', BOB), 400, 'VALIDATION_FAILED');
  });

  it('cancels a confirmed trip: every reservation is cancelled and the charge refunded, once', async () => {
    const trip = (await post(sampleTrip(), { key: randomUUID(), headers: { prefer: 'wait=20' } })).json();
    expect(trip.status).toBe('CONFIRMED');
    const res = await cancel(trip.tripId, { key: randomUUID() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'CANCELLED', steps: { payment: { status: 'COMPENSATED' } } });
    const audit = await auditTrip(stack.config, trip.tripId);
    expect(audit.payment.map((c) => c.status)).toEqual(['REFUNDED']);
    expect([audit.flight, audit.hotel, audit.car].map((rows) => rows.map((r) => r.status))).toEqual([
      ['CANCELLED'],
      ['CANCELLED'],
      ['CANCELLED'],
    ]);
    expect(invariantViolations('CANCELLED', audit)).toEqual([]);
    const again = await cancel(trip.tripId);
    expect(again.statusCode).toBe(200);
    expect(again.json().status).toBe('CANCELLED');
    expect(await runsOf(`cancel-${trip.tripId}`)).toHaveLength(1);
    expect((await get(`/trips/${trip.tripId}`)).json().status).toBe('CANCELLED');
    // The worker's end record: the trip row and one TripCancelled event in its outbox.
    const workerDb = await openApiDatabase(stack.config);
    try {
      const events = await workerDb(OUTBOX_TABLE).where({ aggregate_id: trip.tripId }).pluck('event_type');
      expect(events.sort()).toEqual(['TripCancelled', 'TripConfirmed']);
      expect((await workerDb('trips').where({ trip_id: trip.tripId }).first()).status).toBe('CANCELLED');
    } finally {
      await workerDb.destroy();
    }
  });

  it('cancels a trip still booking through the workflow update and undoes what it reserved', async () => {
    const booking = await makeApp({ taskQueue: stalled.taskQueue });
    const tripId = (await post(sampleTrip(), { key: randomUUID(), on: booking })).json().tripId as string;
    // Flight, hotel and car get booked; payment hangs on a service that never answers.
    for (let i = 0; i < 100 && (await auditTrip(stack.config, tripId)).car.length === 0; i++) await sleep(100);
    const res = await hit(booking, {
      method: 'POST',
      url: `/trips/${tripId}/cancel`,
      headers: { authorization: `Bearer ${ALICE}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('CANCELLED');
    const audit = await auditTrip(stack.config, tripId);
    expect([audit.flight, audit.hotel, audit.car].map((rows) => rows.map((r) => r.status))).toEqual([
      ['CANCELLED'],
      ['CANCELLED'],
      ['CANCELLED'],
    ]);
    // The charge never happened; its refund left a tombstone, so a late charge is refused.
    expect(audit.payment.filter((c) => c.status === 'CAPTURED')).toEqual([]);
    expect(invariantViolations('CANCELLED', audit)).toEqual([]);
  });

  it('answers 409 to cancelling a trip that already ended otherwise', async () => {
    const trip = (
      await post(sampleTrip({ car: { location: 'NOWHERE' } }), { key: randomUUID(), headers: { prefer: 'wait=20' } })
    ).json();
    expect(trip.status).toBe('COMPENSATED');
    const res = await cancel(trip.tripId);
    expectProblem(res, 409, 'TRIP_ALREADY_ENDED');
    expect(res.json().tripStatus).toBe('COMPENSATED');
  });

  it('caps Prefer: wait at 30 seconds, as documented', async () => {
    const patient = await makeApp({ lockTimeoutMs: 300_000 });
    const res = await post(sampleTrip(), { key: randomUUID(), headers: { prefer: 'wait=45' }, on: patient });
    expect(res.headers['preference-applied']).toBe('wait=30');
    expect(res.statusCode).toBe(201);
    await patient.close();
  });

  it('answers the recorded trip as it is now, and starts nothing, for a key reused after its record was purged', async () => {
    const key = randomUUID();
    const first = await post(sampleTrip(), { key, headers: { prefer: 'wait=20' } });
    expect(first.json().status).toBe('CONFIRMED');
    await db('idempotency_keys').where({ scope: 'alice', key }).delete();
    const again = await post(sampleTrip({ customerId: 'someone-else' }), { key });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ tripId: first.json().tripId, status: 'CONFIRMED' });
    expect(await runsOf(first.json().tripId)).toHaveLength(1);
    expect(await tripRows(first.json().tripId)).toBe(1);
  });

  it('keeps the key of a request that failed after its trip started: another body gets 422, the same one takes over at once', async () => {
    // A client whose reads fail: the trip starts, then waiting for it throws (a 500).
    const real = stack.client;
    const broken = bind(real, {
      workflow: bind(real.workflow, {
        getHandle: () => ({
          describe: () => Promise.reject(new Error('Temporal went away')),
        }),
      }),
    });
    const failing = buildApp({
      db,
      temporalClient: broken,
      tokens: TOKENS,
      clock,
      logger: false,
      config: { temporal: stack.config.temporal, api: stack.config.api },
    });
    apps.push(failing);
    await failing.listen({ host: '127.0.0.1', port: 0 });
    const key = randomUUID();
    const request = sampleTrip();
    const tripId = tripIdFor('alice', key);
    expect((await post(request, { key, headers: { prefer: 'wait=5' }, on: failing })).statusCode).toBe(500);
    expect(await runsOf(tripId)).toHaveLength(1);
    expectProblem(await post(sampleTrip({ customerId: 'another-body' }), { key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    const retry = await post(request, { key });
    expect([201, 202]).toContain(retry.statusCode);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json().tripId).toBe(tripId);
    expect((await untilSettled(tripId)).status).toBe('CONFIRMED');
    expect(await runsOf(tripId)).toHaveLength(1);
    expect(await keyRows('alice', key)).toBe(1);
  });

  it('answers a cancel that no worker accepts within the wait with a retryable 503 instead of hanging', async () => {
    const unserved = await makeApp({ taskQueue: `nobody-${randomUUID()}` });
    const trip = await post(sampleTrip(), { key: randomUUID(), on: unserved });
    expect(trip.statusCode).toBe(202);
    const tripId = trip.json().tripId as string;
    try {
      const started = Date.now();
      const res = await hit(unserved, {
        method: 'POST',
        url: `/trips/${tripId}/cancel`,
        headers: { authorization: `Bearer ${ALICE}`, prefer: 'wait=2' },
      });
      expect(Date.now() - started).toBeLessThan(15_000);
      expectProblem(res, 503, 'CANCEL_NOT_ACCEPTED');
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      await stack.client.workflow.getHandle(tripId).terminate('test cleanup');
      await unserved.close();
    }
  }, 40_000);

  it('answers client mistakes with 400/413/415/404 problems and writes nothing', async () => {
    const before = await allRows();
    expectProblem(await post('{"customerId": ', { key: randomUUID() }), 400, 'MALFORMED_JSON');
    expectProblem(
      await post('hello', { key: randomUUID(), headers: { 'content-type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const huge = { ...sampleTrip(), customerId: 'x'.repeat(70 * 1024) };
    expectProblem(await post(huge, { key: randomUUID() }), 413, 'BODY_TOO_LARGE');
    expectProblem(await get('/nowhere'), 404, 'NOT_FOUND');
    expectProblem(await post({ ...sampleTrip(), extra: 1 }, { key: randomUUID() }), 400, 'VALIDATION_FAILED');
    expect(await allRows()).toEqual(before);
  });
});
