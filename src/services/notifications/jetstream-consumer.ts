/**
 * The NATS side of the notifications service: a durable pull consumer with explicit ack. An
 * event is acked only after its inbox/email transaction committed (or it was a duplicate); a
 * failure naks it for redelivery.
 */
import type { Knex } from 'knex';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { aggregateKey, type EventEnvelope } from '../../outbox/event';
import { ensureStream, type StreamSettings } from '../../outbox/nats-stream';
import { applyEvent, envelopeSchema } from './apply-event';

export interface JetStreamConsumerOptions extends StreamSettings {
  durable: string;
  db: Knex;
  /** Where TripNeedsAttention is emailed (config OPS_EMAIL). */
  opsEmail?: string;
  logger?: Logger;
  /** How many aggregates are applied in parallel (events of one aggregate never are). */
  concurrency?: number;
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
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const handle = async (m: JsMsg, event: EventEnvelope) => {
    try {
      const outcome = await applyEvent(options.db, event, { opsEmail: options.opsEmail });
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
      let event: EventEnvelope;
      try {
        const parsed = envelopeSchema.safeParse(JSON.parse(m.string()));
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
