/** Where the relay sends events: NATS JetStream when NATS_URL is set, else signed webhooks. */
import type { EventEnvelope } from './event';

export interface Transport {
  readonly name: string;
  /** Resolves only once the receiver acknowledged the event; rejects otherwise. */
  publish(event: EventEnvelope): Promise<void>;
  close(): Promise<void>;
}
