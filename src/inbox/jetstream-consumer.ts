/**
 * A durable JetStream pull consumer with explicit ack, the one every inbox consumer runs on
 * (notifications, the choreography's participants and projection). An event is acked only after
 * `apply` committed it (or found it a duplicate). Events of one aggregate are applied in stream
 * order even when one fails: the failed event is retried in place with backoff (never nak'd, which
 * would let the next event of its aggregate through first) and the later events of its aggregate
 * wait behind it, unacked but kept from redelivery, while other aggregates flow on. A message
 * without the relay's signature (src/outbox/event-signature.ts) is terminated unapplied.
 */
import type { Context } from '@opentelemetry/api';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import { aggregateKey, type EventEnvelope } from '../outbox/event';
import { verifyEventSignature } from '../outbox/event-signature';
import { ensureStream, type StreamSettings } from '../outbox/nats-stream';
import { extractFrom } from '../observability/trace-context';
import { endApplySpan, startApplySpan, withApplySpan } from './apply-span';

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
export type ApplyOutcome = 'applied' | 'duplicate' | 'ignored' | 'no-ack';

export interface DurableConsumerOptions extends StreamSettings {
  durable: string;
  /** Defaults to every subject of the stream (`<prefix>.>`). */
  filterSubject?: string;
  /** How long JetStream waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /**
   * Applies one event in its own transaction. Throwing holds the event's aggregate (see the
   * module comment); `no-ack` leaves the event unacked, as a crash after commit would.
   */
  apply(event: EventEnvelope): Promise<ApplyOutcome>;
  /**
   * Applies several events in one transaction, in the order given, all or nothing; one outcome
   * each. When given, deliveries are applied in batches of whatever arrived meanwhile (up to
   * `batchSize`), one batch at a time; when not, one event at a time, `concurrency` aggregates in
   * parallel.
   */
  applyBatch?(events: EventEnvelope[]): Promise<ApplyOutcome[]>;
  batchSize?: number;
  /** How many aggregates are applied in parallel without `applyBatch` (default 16). */
  concurrency?: number;
  /** Backoff of a held event's retries (ms): doubles from `baseMs` up to `maxMs`. */
  retry?: { baseMs: number; maxMs: number };
  /** Called for each message terminated for a missing or bad relay signature. */
  onRejected?(reason: string): void;
  logger?: Logger;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

interface Delivery {
  m: JsMsg;
  event: EventEnvelope;
  key: string;
  /** The relay's publish span, from the message's `traceparent` header: the parent of its apply span. */
  trace: Context;
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
  const batched = options.applyBatch;
  const batchSize = options.batchSize ?? 500;
  const limit = options.concurrency ?? 16;
  const retry = options.retry ?? { baseMs: 200, maxMs: 5000 };
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: batched ? Math.max(256, 2 * batchSize) : 256 });
  const stopping = new AbortController();

  // Per aggregate whose event failed: that event followed by every later event of the aggregate
  // received since, held unacked in stream order until the first one applies.
  const stalled = new Map<string, Delivery[]>();
  const retries = new Set<Promise<void>>();

  const settle = (d: Delivery, outcome: ApplyOutcome) => {
    if (outcome !== 'no-ack') d.m.ack();
    options.logger?.debug({ eventId: d.event.id, type: d.event.type, outcome }, 'event consumed');
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      stopping.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });

  /** Retries the stalled aggregate's first event until it applies, then applies the ones held behind it. */
  const drainStalled = async (key: string) => {
    let delay = retry.baseMs;
    for (;;) {
      const held = stalled.get(key) ?? [];
      const first = held[0];
      if (!first) {
        stalled.delete(key);
        return;
      }
      if (stopping.signal.aborted) return; // unacked: redelivered in stream order after ack_wait
      try {
        settle(first, await withApplySpan(first.event, first.trace, () => options.apply(first.event)));
        held.shift();
        delay = retry.baseMs;
      } catch (err) {
        options.logger?.warn({ err, seq: first.m.seq, eventId: first.event.id }, 'event failed; retrying in place');
        // Keep the broker from redelivering what this process still holds.
        for (const d of held) d.m.working();
        await sleep(delay);
        delay = Math.min(retry.maxMs, delay * 2);
      }
    }
  };

  /** Holds `d` behind its aggregate's failed event, or makes it that event. */
  const stall = (d: Delivery) => {
    const held = stalled.get(d.key);
    if (held) {
      held.push(d);
      return;
    }
    stalled.set(d.key, [d]);
    const p = drainStalled(d.key).finally(() => retries.delete(p));
    retries.add(p);
  };

  /** Applies `d` alone, unless its aggregate is held; a failure holds the aggregate. */
  const applyOne = async (d: Delivery) => {
    if (stalled.has(d.key)) return stall(d);
    try {
      settle(d, await withApplySpan(d.event, d.trace, () => options.apply(d.event)));
    } catch (err) {
      options.logger?.warn({ err, seq: d.m.seq, eventId: d.event.id }, 'event failed; holding its aggregate');
      stall(d);
    }
  };

  const applyBatch = async (applyEvents: NonNullable<typeof batched>, batch: Delivery[]) => {
    const ready = batch.filter((d) => {
      if (!stalled.has(d.key)) return true;
      stall(d);
      return false;
    });
    if (ready.length === 0) return;
    // One apply span per event, each in its own trip's trace, all covering the one transaction.
    const spans = ready.map((d) => startApplySpan(d.event, d.trace));
    try {
      const outcomes = await applyEvents(ready.map((d) => d.event));
      ready.forEach((d, i) => {
        const outcome = outcomes[i] ?? 'applied';
        settle(d, outcome);
        endApplySpan(spans[i] as (typeof spans)[number], outcome);
      });
      return;
    } catch (err) {
      for (const span of spans) endApplySpan(span, undefined, err);
      options.logger?.warn({ err, events: ready.length }, 'batch failed; applying its events one by one');
    }
    // One by one, in order: the event that fails stalls its aggregate, and its later events
    // (here, or arriving later) wait behind it.
    for (const d of ready) await applyOne(d);
  };

  // Batched: one batch at a time, of whatever arrived meanwhile, so batches grow with the load.
  const pending: Delivery[] = [];
  let pumping: Promise<void> | undefined;
  const pump = (applyEvents: NonNullable<typeof batched>) => {
    pumping ??= (async () => {
      while (pending.length > 0) await applyBatch(applyEvents, pending.splice(0, batchSize));
    })().finally(() => {
      pumping = undefined;
      if (pending.length > 0) pump(applyEvents);
    });
  };

  // One at a time: the events of one aggregate chained in stream order, aggregates in parallel
  // (bounded), which is where the throughput comes from.
  const chains = new Map<string, Promise<void>>();
  const chain = async (d: Delivery) => {
    while (chains.size >= limit) await Promise.race(chains.values());
    const next = (chains.get(d.key) ?? Promise.resolve()).then(() => applyOne(d));
    chains.set(d.key, next);
    void next.then(() => {
      if (chains.get(d.key) === next) chains.delete(d.key);
    });
  };

  const done = (async () => {
    for await (const m of messages) {
      const event = acceptMessage(m, options, options.logger, options.onRejected);
      if (!event) continue;
      const d: Delivery = {
        m,
        event,
        key: aggregateKey(event.aggregateType, event.aggregateId),
        trace: extractFrom(m.headers),
      };
      if (batched) {
        pending.push(d);
        pump(batched);
      } else {
        await chain(d);
      }
    }
  })();
  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
      await pumping;
      await Promise.all(chains.values());
      stopping.abort();
      await Promise.all(retries);
    },
  };
}
