/** The shape of an outbox event: what writers append and what every transport carries. */

/** What a writer hands to `appendEvent`. */
export interface NewOutboxEvent {
  aggregateType: string;
  aggregateId: string;
  eventType: string;
  payload: unknown;
  /** Defaults to a fresh UUID; it is the dedup key of the broker and of every consumer. */
  eventId?: string;
}

/** The wire envelope: JSON of this is the message body (NATS) or the webhook body. */
export interface EventEnvelope {
  id: string;
  source: string;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: unknown;
  /** When the writer's transaction appended it (ms since the epoch). */
  createdAt: number;
}

/** A row of the `outbox` table. */
export interface OutboxRow {
  seq: number;
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  payload: string;
  created_at: number;
  published_at: number | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  parked_at: number | null;
  /** The appending span's W3C trace context; not part of the envelope (transports carry it as a header). */
  traceparent?: string | null;
}

export function envelopeOf(source: string, row: OutboxRow): EventEnvelope {
  return {
    id: row.event_id,
    source,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    type: row.event_type,
    payload: JSON.parse(row.payload) as unknown,
    createdAt: Number(row.created_at),
  };
}

/** The key events of one aggregate share: what orders them, in the relay and in the consumer. */
export function aggregateKey(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}\u0000${aggregateId}`;
}
