/**
 * The NATS side of the notifications service: a durable pull consumer with explicit ack. An
 * event is acked only after its inbox/email transaction committed (or it was a duplicate); a
 * failure naks it for redelivery.
 */
import type { Knex } from 'knex';
import { AckPolicy, DeliverPolicy, nanos, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ensureStream, type StreamSettings } from '../../outbox/nats-stream';
import { applyEvent, envelopeSchema } from './apply-event';

export interface JetStreamConsumerOptions extends StreamSettings {
  durable: string;
  db: Knex;
  logger?: Logger;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export async function startJetStreamConsumer(nc: NatsConnection, options: JetStreamConsumerOptions): Promise<RunningConsumer> {
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
  const messages = await consumer.consume({ max_messages: 200 });
  const done = (async () => {
    for await (const m of messages) {
      try {
        const event = envelopeSchema.safeParse(JSON.parse(m.string()));
        if (!event.success) {
          // Malformed forever: acking is the only way not to see it again; it is logged.
          options.logger?.error({ seq: m.seq, subject: m.subject }, 'dropping a malformed event');
          m.ack();
          continue;
        }
        const outcome = await applyEvent(options.db, event.data);
        m.ack();
        options.logger?.debug({ eventId: event.data.id, type: event.data.type, outcome }, 'event consumed');
      } catch (err) {
        options.logger?.warn({ err, seq: m.seq }, 'event failed; asking for redelivery');
        m.nak(1000);
      }
    }
  })();
  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}
