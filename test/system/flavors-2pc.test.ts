/**
 * The 2pc flavour through the same interface as the other two, where it can run: the client
 * script's `book --flavor 2pc --wait` and `status`, and `POST /trips` with `"flavor": "2pc"`,
 * against the four services and the coordinator on a private PostgreSQL cluster with prepared
 * transactions. Each trip ends CONFIRMED (or rolled back when a step refuses) with the same rows,
 * audited like any other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import { buildApp } from '../../src/api/app';
import { clientWith } from '../support/client-harness';
import { loadConfig } from '../../src/config';
import { openApiDatabase } from '../../src/trips/trip-records';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { devServerEnv } from '../../src/testkit/temporal-env';
import { startTwoPhaseStack, type TwoPhaseStack } from '../../src/testkit/two-phase-stack';

const TOKEN = 'flavors-2pc-test-token';
let stack: TwoPhaseStack;
let temporal: TestWorkflowEnvironment;
let apiDb: Knex;
let app: FastifyInstance;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  stack = await startTwoPhaseStack();
  temporal = await devServerEnv();
  env = { ...stack.env, TEMPORAL_ADDRESS: temporal.address };
  const config = loadConfig(env);
  apiDb = await openApiDatabase(config);
  app = buildApp({
    db: apiDb,
    temporalClient: temporal.client,
    tokens: new Map([[TOKEN, 'alice']]),
    logger: false,
    config,
  });
  await app.ready();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-flavors-2pc-'));
}, 180_000);
afterAll(async () => {
  await app?.close();
  await apiDb?.destroy();
  await temporal?.teardown();
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const client = (...argv: string[]) => clientWith(env)(...argv);

it('books with the client script (--flavor 2pc --wait) and finds the trip again with status', async () => {
  const file = path.join(dir, 'trip.json');
  fs.writeFileSync(file, JSON.stringify(sampleTrip()));
  const id = `trip-2pc-${randomUUID()}`;
  const booked = await client('book', file, '--id', id, '--flavor', '2pc', '--wait', '--json');
  expect(booked.code).toBe(0);
  expect(JSON.parse(booked.out.join('\n'))).toMatchObject({ tripId: id, status: 'CONFIRMED' });
  const status = await client('status', id, '--json');
  expect(JSON.parse(status.out.join('\n'))).toMatchObject({ tripId: id, status: 'CONFIRMED' });
  expect(invariantViolations('CONFIRMED', await auditTrip(stack.config, id))).toEqual([]);
});

it.each([
  ['a confirmed trip', sampleTrip(), 'CONFIRMED'],
  ['a trip whose payment is declined', sampleTrip({ payment: { token: 'tok_declined' } }), 'COMPENSATED'],
])('books %s through POST /trips with "flavor": "2pc", and GET shows it', async (_what, request, status) => {
  const res = await app.inject({
    method: 'POST',
    url: '/trips',
    headers: { authorization: `Bearer ${TOKEN}`, 'idempotency-key': randomUUID(), prefer: 'wait=20' },
    payload: { ...request, flavor: '2pc' },
  });
  expect(res.statusCode).toBe(201);
  const { tripId } = res.json() as { tripId: string };
  expect(res.json()).toMatchObject({ status });
  const got = await app.inject({
    method: 'GET',
    url: `/trips/${tripId}`,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(got.json()).toMatchObject({ tripId, status });
  // The list reads the same view (saved back from the coordinator, not the PENDING it started as).
  const list = await app.inject({ method: 'GET', url: '/trips', headers: { authorization: `Bearer ${TOKEN}` } });
  expect((list.json() as { trips: Array<{ tripId: string; status: string }> }).trips).toContainEqual(
    expect.objectContaining({ tripId, status }),
  );
  const audit = await auditTrip(stack.config, tripId);
  expect(invariantViolations(status, audit)).toEqual([]);
  // Rolled back means never visible: nothing to compensate, no row at all.
  if (status === 'COMPENSATED') expect([...audit.flight, ...audit.hotel, ...audit.car, ...audit.payment]).toEqual([]);
});
