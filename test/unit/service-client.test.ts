/**
 * The activity↔service seam: which HTTP answers Temporal retries (5xx, 429, no answer, a body that
 * is not JSON, 409 in flight) and which fail the step for good as a business failure (4xx codes,
 * the undone key), seen through the real activities in Temporal's mock activity environment.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { SERVICE_UNAVAILABLE } from '../../src/activities/service-client';
import { FailureType, NON_RETRYABLE_FAILURES } from '../../src/shared/failures';

interface Seen {
  url: string;
  key: string | undefined;
  body: unknown;
}

/** What the fake service does with the next request. */
let answer: (res: http.ServerResponse, req: http.IncomingMessage) => void;
const seen: Seen[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        url: req.url ?? '',
        key: req.headers['idempotency-key'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
      });
      answer(res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen.length = 0;
});

const WORKFLOW_ID = 'trip-seam-1';
const activities = () =>
  createActivities({
    endpoints: { flight: base, hotel: base, car: base, payment: base },
    requestTimeoutMs: 3000,
  });
const env = () =>
  new MockActivityEnvironment({
    workflowExecution: { workflowId: WORKFLOW_ID, runId: 'run-1' },
    activityType: 'reserveFlight',
  });
const flight = { flightNumber: 'UA100', date: '2027-03-01', seats: 1 };

const json =
  (status: number, body: unknown, contentType = 'application/json') =>
  (res: http.ServerResponse) =>
    res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
const problem = (status: number, code: string) =>
  json(status, { type: `urn:trip-saga:problem:${code}`, title: code, status, code }, 'application/problem+json');

/** The failure a reserveFlight attempt ends with, given the service's answer. */
async function failureOf(respond: typeof answer): Promise<ApplicationFailure> {
  answer = respond;
  const err = await env()
    .run(activities().reserveFlight, flight)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

it('sends the forward call keyed <workflowId>:<step> and the undo keyed by the forward key', async () => {
  answer = json(201, { id: 'r-1', status: 'ACTIVE', extra: 'dropped' });
  await expect(env().run(activities().reserveFlight, flight)).resolves.toEqual({ id: 'r-1', status: 'ACTIVE' });
  answer = json(200, { outcome: 'CANCELLED' });
  await expect(env().run(activities().cancelFlight)).resolves.toEqual({ outcome: 'CANCELLED' });
  expect(seen).toEqual([
    { url: '/reservations', key: `${WORKFLOW_ID}:flight`, body: { tripId: WORKFLOW_ID, ...flight } },
    {
      url: '/reservations/cancel',
      key: `${WORKFLOW_ID}:flight:undo`,
      body: { tripId: WORKFLOW_ID, idempotencyKey: `${WORKFLOW_ID}:flight` },
    },
  ]);
});

describe('retried by Temporal (the same key finds out what happened)', () => {
  it.each([
    ['a 503', problem(503, 'INJECTED_FAULT')],
    ['a 500 without a body', (res: http.ServerResponse) => res.writeHead(500).end()],
    ['a 429', problem(429, 'TOO_MANY_REQUESTS')],
    ['a 409 REQUEST_IN_FLIGHT', problem(409, 'REQUEST_IN_FLIGHT')],
    ['a 503 FORWARD_IN_FLIGHT (an undo ahead of its forward call)', problem(503, 'FORWARD_IN_FLIGHT')],
    ['a 200 whose body is not JSON', (res: http.ServerResponse) => res.writeHead(200).end('<html>proxy</html>')],
    [
      'a dropped connection (committed or not, nobody knows)',
      (_res: http.ServerResponse, req: http.IncomingMessage) => req.socket.destroy(),
    ],
    ['no answer within the timeout', () => undefined],
  ])('%s', async (_name, respond) => {
    const failure = await failureOf(respond);
    expect(failure.type).toBe(SERVICE_UNAVAILABLE);
    expect(failure.nonRetryable).toBe(false);
    expect(NON_RETRYABLE_FAILURES).not.toContain(failure.type);
  });
});

describe('a business failure: the step fails for good and compensation starts', () => {
  it.each([
    ['SOLD_OUT', 409, FailureType.SoldOut],
    ['PAYMENT_DECLINED', 402, FailureType.PaymentDeclined],
    ['TOMBSTONED', 409, FailureType.Tombstoned],
    ['IDEMPOTENCY_KEY_UNDONE', 409, FailureType.IdempotencyKeyUndone],
    ['VALIDATION_FAILED', 400, FailureType.InvalidRequest],
    ['UNKNOWN_FLIGHT', 422, FailureType.InvalidRequest],
    ['IDEMPOTENCY_KEY_REUSED', 422, FailureType.InvalidRequest],
  ])('%s (%i)', async (code, status, type) => {
    const failure = await failureOf(problem(status, code));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    // The workflow's retry policy lists it too, so no retry happens whoever throws it.
    expect(NON_RETRYABLE_FAILURES).toContain(type);
    expect(failure.message).toContain(code);
    expect(failure.details).toEqual([expect.objectContaining({ code, status })]);
  });
});
