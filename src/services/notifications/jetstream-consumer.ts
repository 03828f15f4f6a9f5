/**
 * The NATS side of the notifications service: the durable inbox consumer
 * (src/inbox/jetstream-consumer.ts) applying events in batches, one transaction per batch, so
 * throughput grows with the backlog; a batch that fails is applied event by event, and a failing
 * event holds only its own aggregate. Messages without the relay's signature are counted in
 * `notifications_events_rejected_total`.
 */
import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { startDurableConsumer, type RunningConsumer } from '../../inbox/jetstream-consumer';
import type { StreamSettings } from '../../outbox/nats-stream';
import { applyEvent, applyEvents } from './apply-event';

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
  /** Where `notifications_events_rejected_total` is registered (the service's /metrics). */
  metrics?: Registry;
}

export type { RunningConsumer };

export function startJetStreamConsumer(
  nc: NatsConnection,
  options: JetStreamConsumerOptions,
): Promise<RunningConsumer> {
  const rejected = new Counter({
    name: 'notifications_events_rejected_total',
    help: 'NATS messages terminated unapplied: missing or bad relay signature',
    labelNames: ['reason'],
    registers: options.metrics ? [options.metrics] : [],
  });
  const emails = { opsEmail: options.opsEmail };
  return startDurableConsumer(nc, {
    ...options,
    batchSize: options.batchSize ?? 500,
    apply: (event) => applyEvent(options.db, event, emails),
    applyBatch: (events) => applyEvents(options.db, events, emails),
    onRejected: (reason) => rejected.inc({ reason }),
  });
}
