/**
 * A durable JetStream pull consumer with explicit ack, for any inbox consumer (notifications, the
 * choreography's participants and projection). An event is acked only after `apply` committed
 * (or found it a duplicate); a failure naks it for redelivery; `apply` answering `no-ack`
 * leaves it unacked, as a crash after commit would, so JetStream redelivers it after `ackWaitMs`.
 * A message without the relay's signature (src/outbox/event-signature.ts) is terminated unapplied.
 */
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import { aggregateKey, type EventEnvelope } from '../outbox/event';
import { verifyEventSignature } from '../outbox/event-signature';
import { ensureStream, type StreamSettings } from '../outbox/nats-stream';

/** The wire envelope as a consumer validates it. */
/** A string column's value: PostgreSQL refuses NUL in text, so it is a 400 here, not a 500 there. */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000]*$/, 'must not contain NUL');

/** An event envelope as it comes off the wire (a webhook body, a JetStream message). */
export const envelopeSchema = z.object({
  id: z.string().uuid(),
  source: text(32),
  aggregateType: text(64),
  aggregateId: text(255),
  type: text(64),
  payload: z.unknown(),
  // A bigint column: a number past 2^53 is not a timestamp we wrote.
  createdAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});
export type ConsumeOutcome = 'ack' | 'no-ack';

export interface DurableConsumerOptions extends StreamSettings {
  durable: string;
  /** Defaults to every subject of the stream (`<prefix>.>`). */
  filterSubject?: string;
  /** How long JetStream waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  apply(event: EventEnvelope): Promise<ConsumeOutcome>;
  logger?: Logger;
  /** How many aggregates are applied in parallel (events of one aggregate never are). */
  concurrency?: number;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

/**
 * The event a message carries, or undefined when it must never be applied: a message without the
 * relay's valid signature is terminated (whoever published it is not the relay), a malformed one
 * acked (acking is the only way not to see it again); both are logged, and `onRejected` counts
 * the first kind.
 */
export function acceptMessage(
  m: JsMsg,
  settings: Pick<StreamSettings, 'signingSecret' | 'maxAgeMs'>,
  logger: Logger | undefined,
  onRejected?: (reason: string) => void,
): EventEnvelope | undefined {
  const body = m.string();
  const signature = verifyEventSignature(settings.signingSecret, body, m.headers, settings.maxAgeMs);
  if (!signature.ok) {
    onRejected?.(signature.reason);
    logger?.error(
      { seq: m.seq, subject: m.subject, reason: signature.reason },
      'rejecting an event without a valid relay signature',
    );
    // No reason text: servers before 2.10 do not parse `+TERM <reason>` and would ignore it.
    m.term();
    return undefined;
  }
  try {
    const parsed = envelopeSchema.safeParse(JSON.parse(body));
    if (!parsed.success) throw new Error(parsed.error.message);
    return parsed.data;
  } catch (err) {
    logger?.error({ err, seq: m.seq, subject: m.subject }, 'dropping a malformed event');
    m.ack();
    return undefined;
  }
}

export async function startDurableConsumer(
  nc: NatsConnection,
  options: DurableConsumerOptions,
): Promise<RunningConsumer> {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, options);
  try {
    await jsm.consumers.info(options.stream, options.durable);
  } catch {
    try {
      await jsm.consumers.add(options.stream, {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: options.filterSubject ?? `${options.subjectPrefix}.>`,
        ack_wait: nanos(options.ackWaitMs ?? 30_000),
      });
    } catch (err) {
      // Another replica created it in between.
      if (!/already in use|exists/i.test(String((err as Error).message))) throw err;
    }
  }
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const handle = async (m: JsMsg, event: EventEnvelope) => {
    try {
      if ((await options.apply(event)) === 'ack') m.ack();
    } catch (err) {
      options.logger?.warn({ err, seq: m.seq, type: event.type }, 'event failed; asking for redelivery');
      m.nak(1000);
    }
  };
  // Events of one aggregate are applied one after another, in stream order; different
  // aggregates in parallel (bounded), which is where the throughput comes from.
  const chains = new Map<string, Promise<void>>();
  const limit = options.concurrency ?? 16;
  const done = (async () => {
    for await (const m of messages) {
      const event = acceptMessage(m, options, options.logger);
      if (!event) continue;
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
