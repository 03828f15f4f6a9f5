/**
 * Publishes events to JetStream with the event id as `Nats-Msg-Id` (the broker drops repeats),
 * each signed (`Outbox-Signature`) so the consumer can tell them from anyone else's, with the
 * publish span's `traceparent` header (docs/tracing.md).
 */
import type { NatsConnection } from 'nats';
import type { EventEnvelope } from '../outbox/event';
import { signedEventHeaders } from '../outbox/event-signature';
import { injectInto } from '../observability/trace-context';
import { connectNats, ensureStream, subjectFor, type StreamSettings } from '../outbox/nats-stream';
import type { Transport } from './transport';

export interface NatsTransport extends Transport {
  connection: NatsConnection;
}

export async function createNatsTransport(
  settings: StreamSettings,
  options: { timeoutMs?: number; maxInFlight?: number } = {},
): Promise<NatsTransport> {
  // Without async traces: otherwise every publish (a request) captures two stack traces up front,
  // for an error that almost never comes; they were a seventh of the relay's CPU at full speed.
  const nc = await connectNats(settings.natsUrl, 'outbox-relay', settings.auth, { noAsyncTraces: true });
  try {
    await ensureStream(await nc.jetstreamManager(), settings);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const js = nc.jetstream();
  const encoder = new TextEncoder();
  return {
    name: 'nats',
    // JetStream acks asynchronously: many publishes share the connection while acks come back.
    maxInFlight: options.maxInFlight ?? 256,
    connection: nc,
    async publish(event: EventEnvelope) {
      const body = JSON.stringify(event);
      const headers = signedEventHeaders(settings.signingSecret, body);
      injectInto(headers);
      await js.publish(subjectFor(settings.subjectPrefix, event.aggregateType), encoder.encode(body), {
        msgID: event.id,
        timeout: options.timeoutMs ?? 5000,
        headers,
      });
    },
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
