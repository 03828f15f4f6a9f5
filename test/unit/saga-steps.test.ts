/** The one table of the saga's steps: the activities, their routes, kinds and summaries all come from it. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { SAGA_STEPS, STEPS, stepKind, stepSummaries } from '../../src/shared/saga-steps';
import { sampleTrip } from '../../src/testkit/sample-trip';

const endpoints = (url: string) => ({ flight: url, hotel: url, car: url, payment: url });

it('lists the steps in saga order, each with its forward activity and its compensation', () => {
  expect(STEPS).toEqual(['flight', 'hotel', 'car', 'payment']);
  expect(SAGA_STEPS.map((d) => [d.forward, d.undo])).toEqual([
    ['reserveFlight', 'cancelFlight'],
    ['reserveHotel', 'cancelHotel'],
    ['reserveCar', 'cancelCar'],
    ['capturePayment', 'refundPayment'],
  ]);
});

it('builds exactly one activity per forward call and per compensation, plus the end record', () => {
  const names = Object.keys(createActivities({ endpoints: endpoints('http://127.0.0.1:1') })).sort();
  expect(names).toEqual(
    [...SAGA_STEPS.flatMap((d) => [d.forward, d.undo]), 'recordTripOutcome'].sort((a, b) => a.localeCompare(b)),
  );
});

it('tells forward steps, compensations and bookkeeping apart by activity type', () => {
  expect(SAGA_STEPS.map((d) => stepKind(d.forward))).toEqual(['forward', 'forward', 'forward', 'forward']);
  expect(SAGA_STEPS.map((d) => stepKind(d.undo))).toEqual(Array(4).fill('compensation'));
  expect(stepKind('recordTripOutcome')).toBe('other');
});

it('summarises each step of a trip as the Web UI shows it', () => {
  expect(stepSummaries(sampleTrip())).toEqual({
    flight: { forward: 'Reserve flight UA100 on 2027-03-01', undo: 'Cancel flight UA100 (compensation)' },
    hotel: { forward: 'Reserve hotel H-NYC-1 2027-03-01→2027-03-03', undo: 'Cancel hotel H-NYC-1 (compensation)' },
    car: { forward: 'Reserve car at JFK 2027-03-01→2027-03-03', undo: 'Cancel car at JFK (compensation)' },
    payment: {
      forward: 'Capture payment USD 1,234.00 (card …visa)',
      undo: 'Refund payment USD 1,234.00 (compensation)',
    },
  });
});

it('summarises each compensation of a confirmed trip by the trip id alone', () => {
  expect(SAGA_STEPS.map((d) => d.undoSummaryOf('trip-7'))).toEqual([
    'Cancel flight of trip-7 (compensation)',
    'Cancel hotel of trip-7 (compensation)',
    'Cancel car of trip-7 (compensation)',
    'Refund payment of trip-7 (compensation)',
  ]);
});

describe('each activity calls the route the table names, with the step key', () => {
  const seen: Array<{ path: string; key: string; body: Record<string, unknown> }> = [];
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', key: String(req.headers['idempotency-key']), body: JSON.parse(raw) });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id: 'r-1', status: 'ACTIVE', outcome: 'CANCELLED' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(SAGA_STEPS.map((d) => [d.step, d] as const))('%s', async (step, def) => {
    seen.length = 0;
    const acts = createActivities({ endpoints: endpoints(url) }) as unknown as Record<
      string,
      (arg?: unknown) => Promise<unknown>
    >;
    const env = new MockActivityEnvironment({
      workflowExecution: { workflowId: 'trip-t1', runId: 'r' },
    } as ConstructorParameters<typeof MockActivityEnvironment>[0]);
    await env.run(acts[def.forward] as (arg?: unknown) => Promise<unknown>, sampleTrip()[step]);
    await env.run(acts[def.undo] as (arg?: unknown) => Promise<unknown>);
    expect(seen.map((s) => [s.path, s.key])).toEqual([
      [def.route.forward, `trip-t1:${step}`],
      [def.route.undo, `trip-t1:${step}:undo`],
    ]);
    expect(seen[0]?.body).toEqual({ tripId: 'trip-t1', ...sampleTrip()[step] });
    expect(seen[1]?.body).toEqual({ tripId: 'trip-t1', idempotencyKey: `trip-t1:${step}` });
  });
});
