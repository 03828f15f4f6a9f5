/** The JetStream side shared by the relay and the consumer: connection, stream and subjects. */
import { connect, nanos, type JetStreamManager, type NatsConnection } from 'nats';

export interface StreamSettings {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
}

/** One subject per aggregate type: `<prefix>.<aggregateType>`. */
export function subjectFor(prefix: string, aggregateType: string): string {
  return `${prefix}.${aggregateType.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function connectNats(url: string, name: string): Promise<NatsConnection> {
  // Keep reconnecting forever: a broker outage must only delay events, never end the process.
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

/** Creates the stream when it does not exist yet (dedup window of two minutes for Nats-Msg-Id). */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings): Promise<void> {
  try {
    await jsm.streams.info(settings.stream);
  } catch (err) {
    if (!/not found/i.test(String((err as Error).message))) throw err;
    try {
      await jsm.streams.add({
        name: settings.stream,
        subjects: [`${settings.subjectPrefix}.>`],
        duplicate_window: nanos(120_000),
      });
    } catch (addErr) {
      // Another process created it in between.
      if (!/already in use|exists/i.test(String((addErr as Error).message))) throw addErr;
    }
  }
}
