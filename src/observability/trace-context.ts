/**
 * The project's span helpers, on the OpenTelemetry API only: with tracing off (no SDK installed,
 * src/observability/tracing.ts) every call here is a no-op and nothing is propagated.
 */
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

export { SpanKind };

/** The tracer every span of ours comes from. */
export const tracer = () => trace.getTracer('trip-saga');

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context when absent. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span, ended when `fn` settles; a thrown error marks the span
 * failed and is rethrown.
 */
export function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The W3C `traceparent` of the active span (undefined when there is none, e.g. tracing off). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a stored `traceparent` continues (the active one when there is none). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** Adds the active context's `traceparent` (and `tracestate`) to outgoing HTTP headers. */
export function withTraceHeaders(
  headers: Record<string, string>,
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

const nodeHeaderGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

/** The context an incoming request's `traceparent` header continues. */
export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers, nodeHeaderGetter);
}

/** Something with `set(key, value)` (NATS message headers). */
export interface HeaderSink {
  set(key: string, value: string): void;
}
/** Something with `get(key)` (NATS message headers). */
export interface HeaderSource {
  get(key: string): string;
  keys(): string[];
}

const sinkSetter: TextMapSetter<HeaderSink> = { set: (carrier, key, value) => carrier.set(key, value) };
const sourceGetter: TextMapGetter<HeaderSource> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => carrier.get(key) || undefined,
};

/** Writes the active context into message headers (a NATS publish). */
export function injectInto(headers: HeaderSink, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, sinkSetter);
}

/** The context message headers carry (a NATS delivery); the active one when they carry none. */
export function extractFrom(headers: HeaderSource | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, sourceGetter) : context.active();
}
