/**
 * A server span per HTTP request (`POST /reservations`), continuing the caller's W3C
 * `traceparent`; the route's handler runs inside it, so the spans it starts (its database
 * transaction, the workflow it starts) are its children. A no-op while tracing is off.
 */
import { context, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextFromHeaders, SpanKind, tracer } from '../observability/trace-context';

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

export function installRequestTracing(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    const parent = contextFromHeaders(request.headers);
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0],
          ...(route && { 'http.route': route }),
        },
      },
      parent,
    );
    spans.set(request, { span, ctx: trace.setSpan(parent, span) });
  });
  // Body parsing and hooks run outside any async context of ours; the handler itself is entered
  // in the request's span, which its awaits then carry.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: FastifyInstance, request, reply) {
      const entry = spans.get(request);
      return entry
        ? context.with(entry.ctx, () => handler.call(this, request, reply))
        : handler.call(this, request, reply);
    };
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = spans.get(request);
    if (!entry) return;
    entry.span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
    entry.span.end();
  });
}
