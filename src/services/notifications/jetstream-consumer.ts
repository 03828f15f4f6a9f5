/**
 * The NATS side of the notifications service: a durable pull consumer with explicit ack. An
 * event is acked only after its inbox/email transaction committed (or it was a duplicate); a
 * failure naks it for redelivery. A message without the relay's valid signature is never
 * applied: it is terminated, logged and counted.
 */
import type { Knex } from 'knex';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { aggregateKey, type EventEnvelope } from '../../outbox/event';
import { verifyEventSignature } from '../../outbox/event-signature';
import { ensureStream, type StreamSettings } from '../../outbox/nats-stream';
import { applyEvent, envelopeSchema } from './apply-event';

export interface JetStreamConsumerOptions extends StreamSettings {
  durable: string;
  db: Knex;
  logger?: Logger;
  /** How many aggregates are applied in parallel (events of one aggregate never are). */
  concurrency?: number;
  /** Where `notifications_events_rejected_total` is registered (the service's /metrics). */
  metrics?: Registry;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export async function startJetStreamConsumer(
  nc: NatsConnection,
  options: JetStreamConsumerOptions,
): Promise<RunningConsumer> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, options);
  try {
    await jsm.consumers.info(options.stream, options.durable);
  } catch {
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${options.subjectPrefix}.>`,
      ack_wait: nanos(30_000),
    });
  }
  const rejected = new Counter({
    name: 'notifications_events_rejected_total',
    help: 'NATS messages terminated unapplied: missing or bad relay signature',
    labelNames: ['reason'],
    registers: options.metrics ? [options.metrics] : [],
  });
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const handle = async (m: JsMsg, event: EventEnvelope) => {
    try {
      const outcome = await applyEvent(options.db, event);
      m.ack();
      options.logger?.debug({ eventId: event.id, type: event.type, outcome }, 'event consumed');
    } catch (err) {
      options.logger?.warn({ err, seq: m.seq }, 'event failed; asking for redelivery');
      m.nak(1000);
    }
  };
  // Events of one aggregate are applied one after another, in stream order; different
  // aggregates in parallel (bounded), which is where the throughput comes from.
  const chains = new Map<string, Promise<void>>();
  const limit = options.concurrency ?? 16;
  const done = (async () => {
    for await (const m of messages) {
      const body = m.string();
      const signature = verifyEventSignature(options.signingSecret, body, m.headers, options.maxAgeMs);
      if (!signature.ok) {
        // Whoever published this is not the relay: never apply it, never see it again.
        rejected.inc({ reason: signature.reason });
        options.logger?.error(
          { seq: m.seq, subject: m.subject, reason: signature.reason },
          'rejecting an event without a valid relay signature',
        );
        // No reason text: servers before 2.10 do not parse `+TERM <reason>` and would ignore it.
        m.term();
        continue;
      }
      let event: EventEnvelope;
      try {
        const parsed = envelopeSchema.safeParse(JSON.parse(body));
        if (!parsed.success) throw new Error(parsed.error.message);
        event = parsed.data;
      } catch (err) {
        // Malformed forever: acking is the only way not to see it again; it is logged.
        options.logger?.error({ err, seq: m.seq, subject: m.subject }, 'dropping a malformed event');
        m.ack();
        continue;
      }
      while (chains.size >= limit) await Promise.race(chains.values());
      const key = aggregateKey(event.aggregateType, event.aggregateId);
      const next = (chains.get(key) ?? Promise.resolve()).then(() => handle(m, event));
      chains.set(key, next);
      void next.then(() => {
        if (chains.get(key) === next) chains.delete(key);
      });
    }
    await Promise.all(chains.values());
  })();
  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}
