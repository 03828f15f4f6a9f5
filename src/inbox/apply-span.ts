/**
 * The consumer's span for one event (`apply TripConfirmed`), the child of the relay's publish
 * span whose `traceparent` the message or webhook carried: the end of a trip's trace.
 */
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { EventEnvelope } from '../outbox/event';
import { SpanKind, tracer } from '../observability/trace-context';

/** Starts the span of applying `event`; `parent` defaults to the active context. */
export function startApplySpan(event: EventEnvelope, parent: Context = context.active()): Span {
  return tracer().startSpan(
    `apply ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.message.id': event.id,
        'outbox.source': event.source,
        'outbox.event_type': event.type,
      },
    },
    parent,
  );
}

/** Ends it with the outcome (`applied`, `duplicate`, …), or failed with `err`. */
export function endApplySpan(span: Span, outcome: string | undefined, err?: unknown): void {
  if (outcome) span.setAttribute('inbox.outcome', outcome);
  if (err !== undefined) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
  }
  span.end();
}

/** Runs `apply` for `event` inside its span. */
export async function withApplySpan<T extends string>(
  event: EventEnvelope,
  parent: Context | undefined,
  apply: () => Promise<T>,
): Promise<T> {
  const from = parent ?? context.active();
  const span = startApplySpan(event, from);
  try {
    const outcome = await context.with(trace.setSpan(from, span), apply);
    endApplySpan(span, outcome);
    return outcome;
  } catch (err) {
    endApplySpan(span, undefined, err);
    throw err;
  }
}
