/** Where the relay sends events: NATS JetStream when NATS_URL is set, else signed webhooks. */
import type { EventEnvelope } from '../outbox/event';

export interface Transport {
  readonly name: string;
  /** How many publishes the relay may have in flight at once on this transport. */
  readonly maxInFlight?: number;
  /** Resolves only once the receiver acknowledged the event; rejects otherwise. */
  publish(event: EventEnvelope): Promise<void>;
  close(): Promise<void>;
}

/** A failure of the transport itself (down, unreachable, overloaded): retried forever, never parks. */
export class TransientPublishError extends Error {
  readonly transient = true;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // nats.js error codes: not connected, reconnecting, request timeout, no stream answering.
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'DISCONNECT',
  'TIMEOUT',
  '408',
  '503',
]);

/**
 * Whether a publish failure is the transport's (retry with backoff, do not count toward parking)
 * rather than the event's (a refusal that retrying will not change: counts toward parking).
 */
export function isTransientFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { transient, name, code } = e as { transient?: unknown; name?: unknown; code?: unknown };
    if (transient === true) return true;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    if (code !== undefined && TRANSIENT_CODES.has(String(code))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
