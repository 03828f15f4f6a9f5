/**
 * One trace per trip (docs/tracing.md): a trip booked through the API on the whole stack in this
 * process (API, Temporal dev server, worker, the four services, the relay on signed webhooks,
 * notifications) leaves one trace, from the API request through the workflow, each activity and
 * its service request, to the relay's publish and the notification's apply, every span's parent
 * in the trace.
 */
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { buildApp } from '../../src/api/app';
import { BOOKING_SERVICES } from '../../src/config';
import { installTracing, type Tracing } from '../../src/observability/tracing';
import { waitForEmails } from '../../src/services/notifications/wait-for-email';
import { connectClient } from '../../src/temporal/connection';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { startStack, type Stack } from '../../src/testkit/stack';
import { openApiDatabase } from '../../src/trips/trip-records';
import { relayStackToWebhook, waitFor } from '../support/outbox-harness';

const TOKEN = 'token-tracing-0001';
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: Stack;
let client: Client;
let api: FastifyInstance;
let announcing: Awaited<ReturnType<typeof relayStackToWebhook>>;
let apiDb: Knex;

beforeAll(async () => {
  // Before the worker is made: its workflow span sink reads the installed processor.
  tracing = installTracing(new SimpleSpanProcessor(exporter), 'trip-saga-test');
  stack = await startStack();
  announcing = await relayStackToWebhook(stack.config);
  // The API's own client: the one every process makes, with the tracing interceptor.
  client = await connectClient(stack.config);
  apiDb = await openApiDatabase(stack.config);
  api = buildApp({ db: apiDb, temporalClient: client, tokens: new Map([[TOKEN, 'tracer']]), config: stack.config });
  await api.listen({ host: '127.0.0.1', port: 0 });
}, 180_000);

afterAll(async () => {
  await api?.close();
  await announcing?.stop();
  await client?.connection.close();
  await apiDb?.destroy();
  await stack?.stop();
  await tracing?.shutdown();
}, 120_000);

const hex = (id: string | undefined) => id ?? '';

/** The span's ancestors' names, nearest first, within `byId`. */
function ancestors(span: ReadableSpan, byId: Map<string, ReadableSpan>): string[] {
  const names: string[] = [];
  for (let at = byId.get(hex(span.parentSpanId)); at; at = byId.get(hex(at.parentSpanId))) names.push(at.name);
  return names;
}

it('traces a booked trip from the API request to the notification it caused, in one trace', async () => {
  const { port } = api.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/trips`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
      prefer: 'wait=30',
    },
    body: JSON.stringify(sampleTrip()),
  });
  const trip = (await res.json()) as { tripId: string; status: string };
  expect(res.status).toBe(201);
  expect(trip.status).toBe('CONFIRMED');
  const emails = await waitForEmails(announcing.webhook.url, trip.tripId, 30_000);
  expect(emails.map((e) => e.kind)).toEqual(['confirmation']);

  const root = exporter.getFinishedSpans().find((s) => s.name === 'POST /trips' && s.kind === SpanKind.SERVER);
  expect(root).toBeDefined();
  const traceId = root!.spanContext().traceId;
  const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  // The workflow span ends with the run; the apply span just after the email row committed.
  const spans = await waitFor(
    'the whole trace',
    async () => inTrace(),
    (all) => all.some((s) => s.name === 'RunWorkflow:bookTrip') && all.some((s) => s.name === 'apply TripConfirmed'),
  );
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const named = (name: string) => spans.filter((s) => s.name === name);

  // The request span is the root; every other span's parent is in the trace.
  expect(root!.parentSpanId).toBeUndefined();
  const orphans = spans.filter((s) => s !== root && !byId.has(hex(s.parentSpanId))).map((s) => s.name);
  expect(orphans).toEqual([]);

  expect(ancestors(named('RunWorkflow:bookTrip')[0]!, byId)).toEqual(
    expect.arrayContaining(['StartWorkflow:bookTrip', 'POST /trips']),
  );
  const activities = ['reserveFlight', 'reserveHotel', 'reserveCar', 'capturePayment'];
  const routes = { flight: '/reservations', hotel: '/reservations', car: '/reservations', payment: '/charges' };
  for (const [i, service] of BOOKING_SERVICES.entries()) {
    const activity = `RunActivity:${activities[i]}`;
    expect(named(activity)).toHaveLength(1);
    expect(ancestors(named(activity)[0]!, byId)).toEqual(
      expect.arrayContaining(['RunWorkflow:bookTrip', 'StartWorkflow:bookTrip', 'POST /trips']),
    );
    // The activity's client span, and the service's server span that continued its traceparent.
    const call = named(`POST ${service}`);
    expect(call).toHaveLength(1);
    expect(call[0]!.kind).toBe(SpanKind.CLIENT);
    expect(byId.get(hex(call[0]!.parentSpanId))?.name).toBe(activity);
    const served = spans.filter((s) => s.kind === SpanKind.SERVER && s.parentSpanId === call[0]!.spanContext().spanId);
    expect(served.map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([
      [`POST ${routes[service]}`, 201],
    ]);
    // The service's database transaction runs in its request's span.
    const transaction = spans.find((s) => s.parentSpanId === served[0]!.spanContext().spanId);
    expect(transaction?.name).toBe('db transaction');
  }

  // The outbox hop: the end record's event, published by the relay and applied by notifications.
  const applied = named('apply TripConfirmed');
  expect(applied).toHaveLength(1);
  expect(ancestors(applied[0]!, byId)).toEqual(
    expect.arrayContaining([
      'POST /webhooks/outbox',
      'publish TripConfirmed',
      'RunActivity:recordTripOutcome',
      'RunWorkflow:bookTrip',
      'POST /trips',
    ]),
  );
  expect(applied[0]!.attributes['inbox.outcome']).toBe('applied');
  // The services' own events leave from their request's transaction, in the same trace.
  const published = named('publish ReservationCreated');
  expect(published.map((s) => byId.get(hex(s.parentSpanId))?.name)).toEqual(Array(3).fill('db transaction'));
}, 120_000);
