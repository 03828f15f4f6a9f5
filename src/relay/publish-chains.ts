/**
 * Publishing a claimed batch, pipelined: up to `window` publishes are in flight at once (JetStream
 * async publishes, or concurrent webhook calls), while within one aggregate the next event goes
 * only after the previous one was acknowledged, so a failure can never let a later event of its
 * aggregate overtake it.
 */
import { contextFromTraceparent, SpanKind, withSpan } from '../observability/trace-context';
import { envelopeOf, type OutboxRow } from '../outbox/event';
import type { PublishOutcome } from './mark-batch';
import { isTransientFailure, type Transport } from './transport';

/** A counting semaphore: at most `size` holders at once. */
function semaphore(size: number) {
  let free = Math.max(1, size);
  const queue: Array<() => void> = [];
  return {
    async acquire(): Promise<void> {
      if (free > 0) {
        free -= 1;
        return;
      }
      await new Promise<void>((resolve) => queue.push(resolve));
    },
    release(): void {
      const next = queue.shift();
      if (next) next();
      else free += 1;
    },
  };
}

/** One event in a producer span, the child of the span that appended it (its stored `traceparent`). */
function publishRow(source: string, row: OutboxRow, transport: Transport): Promise<void> {
  const attributes = {
    'messaging.system': transport.name,
    'messaging.operation.type': 'send',
    'messaging.message.id': row.event_id,
    'outbox.source': source,
    'outbox.event_type': row.event_type,
  };
  return withSpan(
    `publish ${row.event_type}`,
    { kind: SpanKind.PRODUCER, parent: contextFromTraceparent(row.traceparent), attributes },
    () => transport.publish(envelopeOf(source, row)),
  );
}

export interface PublishHooks {
  /** Runs after each acknowledged publish with the count so far (the crash-mid-window test's hook). */
  onAck?: (acked: number) => void;
}

/**
 * Publishes `chains` (each one aggregate's events, in order) with at most `window` publishes in
 * flight. A chain stops at its first failure: the events behind it stay unpublished, untouched.
 * A failure is marked transient (the transport's, see `isTransientFailure`) or not (the event's).
 */
export async function publishChains(
  source: string,
  chains: OutboxRow[][],
  transport: Transport,
  window: number,
  hooks: PublishHooks = {},
): Promise<PublishOutcome[]> {
  const slots = semaphore(window);
  const outcomes: PublishOutcome[] = [];
  let acked = 0;
  await Promise.all(
    chains.map(async (chain) => {
      for (const row of chain) {
        await slots.acquire();
        try {
          await publishRow(source, row, transport);
          outcomes.push({ seq: row.seq, ok: true });
          acked += 1;
          hooks.onAck?.(acked);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          outcomes.push({ seq: row.seq, ok: false, error, ...(isTransientFailure(err) && { transientFailures: 0 }) });
          return;
        } finally {
          slots.release();
        }
      }
    }),
  );
  return outcomes;
}
