/**
 * One interface over the saga flavours: the client script's `book --flavor` and `status`, and
 * `POST /trips` with `"flavor"`, against one set of services that runs both the orchestrated saga
 * (a Temporal worker) and the choreography (participants on JetStream). Two-phase commit is
 * refused with its reason until it lands.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildApp } from '../../src/api/app';
import { describeClientError } from '../../src/client/cli';
import { clientWith } from '../support/client-harness';
import { loadConfig } from '../../src/config';
import { createTripWorker, type TripWorker } from '../../src/workers/create-worker';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { devServerEnv } from '../../src/testkit/temporal-env';
import { startChoreographyStack, type ChoreographyStack } from '../../src/testkit/choreography-stack';

const TOKEN = 'flavors-test-token';
let pg: TestDatabase;
let stack: ChoreographyStack;
let temporal: TestWorkflowEnvironment;
let worker: TripWorker;
let running: Promise<void>;
let app: FastifyInstance;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  pg = await createTestDatabase('flavors');
  stack = await startChoreographyStack({ databaseUrl: pg.url });
  temporal = await devServerEnv();
  env = { ...stack.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_TASK_QUEUE: `flavors-${randomUUID()}` };
  const config = loadConfig(env);
  worker = await createTripWorker(config);
  running = worker.worker.run();
  app = buildApp({
    db: stack.apiDb,
    temporalClient: temporal.client,
    tokens: new Map([[TOKEN, 'alice']]),
    logger: false,
    config,
  });
  await app.ready();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-flavors-'));
});
afterAll(async () => {
  await app?.close();
  if (worker?.worker.getState() === 'RUNNING') worker.worker.shutdown();
  await running?.catch(() => undefined);
  await worker?.connection.close();
  await worker?.apiDb.destroy();
  await temporal?.teardown();
  await stack?.stop();
  await pg?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const client = (...argv: string[]) => clientWith(env)(...argv);
const tripFile = (request: unknown) => {
  const file = path.join(dir, `${randomUUID()}.json`);
  fs.writeFileSync(file, JSON.stringify(request));
  return file;
};

describe('client script', () => {
  it.each(['orchestrated', 'choreographed'])(
    'books a %s trip with --wait --json and finds it again with status',
    async (flavor) => {
      const id = randomUUID();
      const booked = await client('book', tripFile(sampleTrip()), '--id', id, '--flavor', flavor, '--wait', '--json');
      expect(booked.code).toBe(0);
      expect(booked.out).toHaveLength(1);
      expect(JSON.parse(booked.out[0] as string)).toMatchObject({
        tripId: `trip-${id}`,
        workflowId: `trip-${id}`,
        status: 'CONFIRMED',
      });
      const status = await client('status', id, '--json');
      expect(status.code).toBe(0);
      const view = JSON.parse(status.out[0] as string);
      expect(view).toMatchObject({ tripId: `trip-${id}`, status: 'CONFIRMED' });
      expect(Object.keys(view.steps)).toEqual(['flight', 'hotel', 'car', 'payment']);
      expect(invariantViolations('CONFIRMED', await auditTrip(stack.config, `trip-${id}`))).toEqual([]);
    },
  );

  it('shows the reason of a compensated choreographed trip in status, like an orchestrated one', async () => {
    const id = randomUUID();
    const file = tripFile(sampleTrip({ car: { location: 'NOWHERE' } }));
    expect((await client('book', file, '--id', id, '--flavor', 'choreographed', '--wait')).code).toBe(0);
    const { code, out } = await client('status', id);
    expect(code).toBe(0);
    expect(out[0]).toBe(`trip trip-${id}: COMPENSATED`);
    expect(out.join('\n')).toMatch(/reason: car: SoldOutError/);
  });

  it('refuses to cancel a choreographed trip, naming its flavour, and shows the trip as it stands', async () => {
    const id = randomUUID();
    expect((await client('book', tripFile(sampleTrip()), '--id', id, '--flavor', 'choreographed', '--wait')).code).toBe(
      0,
    );
    const { code, out, err } = await client('cancel', id);
    expect(code).toBe(1);
    expect(err).toEqual([`trip trip-${id} is choreographed: only orchestrated trips can be cancelled`]);
    expect(out[0]).toBe(`trip trip-${id}: CONFIRMED`);
    expect((await auditTrip(stack.config, `trip-${id}`)).payment.map((r) => r.status)).toEqual(['CAPTURED']);
  });

  it.each(['status', 'cancel'])('answers %s of a trip no flavour knows with "no trip"', async (command) => {
    const id = randomUUID();
    const answer = await client(command, id).catch((e: unknown) => describeClientError(e));
    expect(answer).toMatchObject({ exitCode: 1, message: `no trip trip-${id}` });
  });

  it('keeps one trip per id: the same --id booked again attaches, another flavour is refused', async () => {
    const id = randomUUID();
    const file = tripFile(sampleTrip());
    await client('book', file, '--id', id, '--flavor', 'choreographed', '--wait', '--json');
    const again = await client('book', file, '--id', id, '--flavor', 'choreographed');
    expect(again.code).toBe(0);
    expect(again.err.join('\n')).toMatch(/already exists/);
    const other = await client('book', file, '--id', id, '--flavor', 'orchestrated').catch((err: unknown) =>
      describeClientError(err),
    );
    expect(other).toMatchObject({ exitCode: 1, message: `trip trip-${id} already exists as a choreographed trip` });
    const runs = [];
    for await (const wf of temporal.client.workflow.list({ query: `WorkflowId = 'trip-${id}'` })) runs.push(wf);
    expect(runs).toEqual([]);
    const audit = await auditTrip(stack.config, `trip-${id}`);
    expect([audit.flight.length, audit.payment.length]).toEqual([1, 1]);
  });

  it('refuses --flavor 2pc with the reason when no coordinator runs', async () => {
    const refused = await client('book', tripFile(sampleTrip()), '--flavor', '2pc').catch((err: unknown) =>
      describeClientError(err),
    );
    expect(refused).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/two-phase commit is not available: .*npm run coordinator/),
    });
  });
});

describe('POST /trips with "flavor"', () => {
  const post = (body: unknown, key = randomUUID(), prefer?: string) =>
    app.inject({
      method: 'POST',
      url: '/trips',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': key,
        ...(prefer ? { prefer } : {}),
      },
      payload: body as object,
    });

  it('books a choreographed trip, answers it ended within Prefer: wait, and GET shows the same view', async () => {
    const res = await post(
      { ...sampleTrip({ hotel: { hotelId: 'H-FULL' } }), flavor: 'choreographed' },
      undefined,
      'wait=20',
    );
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ status: 'COMPENSATED', reason: { step: 'hotel', type: 'SoldOutError' } });
    const got = await app.inject({
      method: 'GET',
      url: `/trips/${body.tripId}`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(got.json()).toMatchObject({ tripId: body.tripId, status: 'COMPENSATED', steps: body.steps });
    expect(invariantViolations('COMPENSATED', await auditTrip(stack.config, body.tripId))).toEqual([]);
    const cancel = await app.inject({
      method: 'POST',
      url: `/trips/${body.tripId}/cancel`,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json()).toMatchObject({ code: 'CANCEL_NOT_SUPPORTED' });
  });

  it('books an orchestrated trip when no flavour is given', async () => {
    const res = await post(sampleTrip(), undefined, 'wait=20');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'CONFIRMED' });
    const record = await stack.apiDb('trips').where({ trip_id: res.json().tripId }).first();
    expect(record.flavor).toBe('orchestrated');
  });

  it('refuses 2pc with 422 FLAVOR_UNAVAILABLE and an unknown flavour with 400, starting nothing', async () => {
    const twoPc = await post({ ...sampleTrip(), flavor: '2pc' });
    expect(twoPc.statusCode).toBe(422);
    expect(twoPc.json()).toMatchObject({
      code: 'FLAVOR_UNAVAILABLE',
      detail: expect.stringMatching(/^two-phase commit is not available: .*max_prepared_transactions/),
    });
    const unknown = await post({ ...sampleTrip(), flavor: 'saga-of-my-own' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
