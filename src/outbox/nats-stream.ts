/** The JetStream side shared by the relay and the consumer: connection, stream and subjects. */
import { connect, nanos, type JetStreamManager, type NatsConnection } from 'nats';

export interface StreamSettings {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  /** How long the broker keeps a message (the outbox retention); unset = no limit. */
  maxAgeMs?: number;
}

/** The stream settings every process derives from the one config (relay and consumer alike). */
export function streamSettingsFrom(
  natsUrl: string,
  outbox: { stream: string; subjectPrefix: string; retentionMs: number },
): StreamSettings {
  return { natsUrl, stream: outbox.stream, subjectPrefix: outbox.subjectPrefix, maxAgeMs: outbox.retentionMs };
}

/** One subject per aggregate type: `<prefix>.<aggregateType>`. */
export function subjectFor(prefix: string, aggregateType: string): string {
  return `${prefix}.${aggregateType.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function connectNats(url: string, name: string): Promise<NatsConnection> {
  // Keep reconnecting forever: a broker outage must only delay events, never end the process.
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

/** Creates the stream when it does not exist yet (dedup window of two minutes for Nats-Msg-Id, messages kept `maxAgeMs`). */
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
        // Without a limit the stream keeps every event forever, acked or not.
        ...(settings.maxAgeMs ? { max_age: nanos(settings.maxAgeMs) } : {}),
      });
    } catch (addErr) {
      // Another process created it in between.
      if (!/already in use|exists/i.test(String((addErr as Error).message))) throw addErr;
    }
  }
}
