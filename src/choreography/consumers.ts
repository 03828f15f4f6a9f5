/**
 * Starts the choreography's consumers on JetStream: a booking service's participant (run by the
 * services process next to its HTTP app) and the projection (run by the trip API process). Each
 * is a durable consumer of the choreography subject (src/inbox/jetstream-consumer.ts): acked only
 * after its inbox transaction, one trip's events in stream order.
 */
import type { Knex } from 'knex';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { ServiceContext } from '../http/idempotent-route';
import { startDurableConsumer, type RunningConsumer } from '../inbox/jetstream-consumer';
import { subjectFor, type StreamSettings } from '../outbox/nats-stream';
import type { StepName } from '../shared/trip';
import { CHOREOGRAPHY_AGGREGATE } from './events';
import { handleStepEvent } from './participant';
import { projectEvent } from './projection';

export interface ChoreographyConsumerOptions extends StreamSettings {
  ackWaitMs: number;
  logger?: Logger;
}

const consumerOf = (options: ChoreographyConsumerOptions, durable: string) => ({
  ...options,
  durable,
  filterSubject: subjectFor(options.subjectPrefix, CHOREOGRAPHY_AGGREGATE),
});

/** The participant of one booking service: consumes its subscriptions, emits through its outbox. */
export function startStepParticipant(
  nc: NatsConnection,
  options: ChoreographyConsumerOptions,
  ctx: ServiceContext,
  step: StepName,
): Promise<RunningConsumer> {
  return startDurableConsumer(nc, {
    ...consumerOf(options, `choreography-${step}`),
    apply: (event) => handleStepEvent(ctx, step, event),
  });
}

/** The projection into the trip API's database (trip views and outcome events). */
export function startTripProjection(
  nc: NatsConnection,
  options: ChoreographyConsumerOptions,
  db: Knex,
): Promise<RunningConsumer> {
  return startDurableConsumer(nc, {
    ...consumerOf(options, 'choreography-projection'),
    apply: (event) => projectEvent(db, event),
  });
}
