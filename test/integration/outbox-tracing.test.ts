/**
 * The outbox hop of a trace on NATS JetStream (docs/tracing.md): the writer's span is stored with
 * the event, the relay publishes it as that span's child with a `traceparent` header, and the
 * notifications consumer applies it (in a batch transaction) in a span continuing that header.
 */
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { installTracing, type Tracing } from '../../src/observability/tracing';
import { withSpan } from '../../src/observability/trace-context';
import { OutboxRelay } from '../../src/relay/outbox-relay';
import { createNatsTransport, type NatsTransport } from '../../src/relay/nats-transport';
import {
  appendRefunds,
  openDbs,
  startNatsConsumer,
  TEST_RELAY_OPTIONS,
  uniqueStream,
  waitFor,
  type Dbs,
} from '../support/outbox-harness';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let dbs: Dbs;
let transport: NatsTransport;
let relay: OutboxRelay;
let consumer: Awaited<ReturnType<typeof startNatsConsumer>>;

beforeAll(async () => {
  tracing = installTracing(new SimpleSpanProcessor(exporter), 'trip-saga-test');
  dbs = await openDbs();
  const settings = uniqueStream();
  transport = await createNatsTransport(settings);
  consumer = await startNatsConsumer(dbs.notifications, settings);
  relay = new OutboxRelay([{ name: 'payment', db: dbs.payment }], transport, TEST_RELAY_OPTIONS);
  relay.start();
});
afterAll(async () => {
  await relay?.stop();
  await transport?.close();
  await consumer?.stop();
  await dbs?.close();
  await tracing?.shutdown();
});

it("continues the writer's trace through the relay's publish to the consumer's apply", async () => {
  const { ids, writer } = await withSpan('writer', {}, async (span) => ({
    ids: await appendRefunds(dbs.payment, 1, 1),
    writer: span.spanContext(),
  }));
  const row = (await dbs.payment('outbox').where({ event_id: ids[0] }).first()) as { traceparent: string };
  expect(row.traceparent).toBe(`00-${writer.traceId}-${writer.spanId}-01`);

  const spans = await waitFor(
    'the apply span',
    async () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === writer.traceId),
    (all) => all.some((s) => s.name === 'apply ChargeRefunded'),
  );
  const publish = spans.find((s) => s.name === 'publish ChargeRefunded');
  const apply = spans.find((s) => s.name === 'apply ChargeRefunded');
  expect(publish).toMatchObject({ kind: SpanKind.PRODUCER, parentSpanId: writer.spanId });
  expect(publish?.attributes['messaging.system']).toBe('nats');
  expect(apply).toMatchObject({ kind: SpanKind.CONSUMER, parentSpanId: publish?.spanContext().spanId });
  expect(apply?.attributes['inbox.outcome']).toBe('applied');
});
