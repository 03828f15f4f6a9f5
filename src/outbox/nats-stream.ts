/** The JetStream side shared by the relay and the consumer: connection, stream and subjects. */
import fs from 'node:fs';
import {
  connect,
  credsAuthenticator,
  nanos,
  type ConnectionOptions,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { NatsAuth } from '../config';

export interface StreamSettings {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  /** How long the broker keeps a message (the outbox retention); unset = no limit. */
  maxAgeMs?: number;
  /** HMAC key every event is signed with by the relay and checked with by the consumer (WEBHOOK_SECRET). */
  signingSecret: string;
  /** NATS credentials (NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS). */
  auth?: NatsAuth;
}

/** The stream settings every process derives from the one config (relay and consumer alike). */
export function streamSettingsFrom(
  natsUrl: string,
  outbox: { stream: string; subjectPrefix: string; retentionMs: number; webhookSecret: string },
  auth?: NatsAuth,
): StreamSettings {
  return {
    natsUrl,
    stream: outbox.stream,
    subjectPrefix: outbox.subjectPrefix,
    maxAgeMs: outbox.retentionMs,
    signingSecret: outbox.webhookSecret,
    auth,
  };
}

/** One subject per aggregate type: `<prefix>.<aggregateType>`. */
export function subjectFor(prefix: string, aggregateType: string): string {
  return `${prefix}.${aggregateType.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function authOptions(auth: NatsAuth | undefined): Partial<ConnectionOptions> {
  if (!auth) return {};
  if ('credsFile' in auth) return { authenticator: credsAuthenticator(fs.readFileSync(auth.credsFile)) };
  return auth;
}

/**
 * Connects for good: a broker outage must only delay events, never end the process, so it keeps
 * reconnecting forever. `options` tunes the connection (the relay turns off `asyncTraces`).
 */
export function connectNats(
  url: string,
  name: string,
  auth?: NatsAuth,
  options: Pick<ConnectionOptions, 'noAsyncTraces'> = {},
): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...options,
    ...authOptions(auth),
  });
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
