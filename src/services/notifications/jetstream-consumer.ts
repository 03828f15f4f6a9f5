/**
 * The NATS side of the notifications service: the shared durable consumer (src/inbox/) applying
 * each event to the notifications inbox and emails in one transaction.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { StreamSettings } from '../../outbox/nats-stream';
import { startDurableConsumer, type RunningConsumer } from '../../inbox/jetstream-consumer';
import { applyEvent } from './apply-event';

export type { RunningConsumer } from '../../inbox/jetstream-consumer';

export interface JetStreamConsumerOptions extends StreamSettings {
  durable: string;
  db: Knex;
  logger?: Logger;
  /** How many aggregates are applied in parallel (events of one aggregate never are). */
  concurrency?: number;
}

export function startJetStreamConsumer(
  nc: Parameters<typeof startDurableConsumer>[0],
  options: JetStreamConsumerOptions,
): Promise<RunningConsumer> {
  const { db, ...rest } = options;
  return startDurableConsumer(nc, {
    ...rest,
    apply: async (event) => {
      const outcome = await applyEvent(db, event);
      options.logger?.debug({ eventId: event.id, type: event.type, outcome }, 'event consumed');
      return 'ack';
    },
  });
}
