/**
 * The NATS side of the notifications service: a durable pull consumer with explicit ack. Events
 * are applied in batches, one transaction per batch (inbox dedup kept), and acked only after it
 * committed. Events of one aggregate are applied in stream order even when one fails: the failed
 * event is retried in place (never nak'd, which would let the next event of its aggregate through
 * first) and the later events of its aggregate wait behind it, while other aggregates flow on.
 * A message without the relay's valid signature is never applied: it is terminated, logged
 * and counted.
 */
import type { Knex } from 'knex';
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { aggregateKey, type EventEnvelope } from '../../outbox/event';
import { acceptMessage } from '../../inbox/jetstream-consumer';
import { ensureStream, type StreamSettings } from '../../outbox/nats-stream';
import { applyEvent, applyEvents, type ApplyOutcome } from './apply-event';

export interface JetStreamConsumerOptions extends StreamSettings {
  durable: string;
  db: Knex;
  /** Where TripNeedsAttention is emailed (config OPS_EMAIL). */
  opsEmail?: string;
  logger?: Logger;
  /** Most events applied in one transaction. */
  batchSize?: number;
  /** Backoff of an event whose apply failed (ms): doubles from `base` up to `max`. */
  retry?: { baseMs: number; maxMs: number };
  /** How a batch and a single event are applied (tests wrap these to inject failures). */
  apply?: {
    batch: (db: Knex, events: EventEnvelope[]) => Promise<ApplyOutcome[]>;
    one: (db: Knex, event: EventEnvelope) => Promise<ApplyOutcome>;
  };
  /** Where `notifications_events_rejected_total` is registered (the service's /metrics). */
  metrics?: Registry;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

interface Delivery {
  m: JsMsg;
  event: EventEnvelope;
  key: string;
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
  const messages = await consumer.consume({ max_messages: 1000 });
  const emails = { opsEmail: options.opsEmail };
  const apply = options.apply ?? {
    batch: (db: Knex, events: EventEnvelope[]) => applyEvents(db, events, emails),
    one: (db: Knex, event: EventEnvelope) => applyEvent(db, event, emails),
  };
  const batchSize = options.batchSize ?? 500;
  const retry = options.retry ?? { baseMs: 200, maxMs: 5000 };
  const stopping = new AbortController();

  // Waiting to be applied, in stream order; and per aggregate whose event failed, that event
  // followed by every later event of the aggregate received since (held, unacked, in order).
  const pending: Delivery[] = [];
  const stalled = new Map<string, Delivery[]>();
  const retries = new Set<Promise<void>>();

  const applied = (d: Delivery, outcome: ApplyOutcome) => {
    d.m.ack();
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
        applied(first, await apply.one(options.db, first.event));
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

  const applyBatch = async (batch: Delivery[]) => {
    const ready = batch.filter((d) => {
      if (!stalled.has(d.key)) return true;
      stall(d);
      return false;
    });
    if (ready.length === 0) return;
    try {
      const outcomes = await apply.batch(
        options.db,
        ready.map((d) => d.event),
      );
      ready.forEach((d, i) => applied(d, outcomes[i] ?? 'applied'));
      return;
    } catch (err) {
      options.logger?.warn({ err, events: ready.length }, 'batch failed; applying its events one by one');
    }
    // One by one, in order: the event that fails stalls its aggregate, and its later events
    // (here, or arriving later) wait behind it.
    for (const d of ready) {
      if (stalled.has(d.key)) {
        stall(d);
        continue;
      }
      try {
        applied(d, await apply.one(options.db, d.event));
      } catch (err) {
        options.logger?.warn({ err, seq: d.m.seq, eventId: d.event.id }, 'event failed; holding its aggregate');
        stall(d);
      }
    }
  };

  // One batch at a time, of whatever arrived meanwhile: batches grow with the load.
  let pumping: Promise<void> | undefined;
  const pump = () => {
    pumping ??= (async () => {
      while (pending.length > 0) await applyBatch(pending.splice(0, batchSize));
    })().finally(() => {
      pumping = undefined;
      if (pending.length > 0) pump();
    });
  };

  const done = (async () => {
    for await (const m of messages) {
      const event = acceptMessage(m, options, options.logger, (reason) => rejected.inc({ reason }));
      if (!event) continue;
      pending.push({ m, event, key: aggregateKey(event.aggregateType, event.aggregateId) });
      pump();
    }
  })();
  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
      await pumping;
      stopping.abort();
      await Promise.all(retries);
    },
  };
}
