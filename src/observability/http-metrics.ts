/**
 * Prometheus metrics of an HTTP app (the trip API, each booking service, notifications): every
 * response counted and timed by method, route template and status code, served on `GET /metrics`
 * of the app's own port. The route is the template (`/trips/:tripId`), never the raw URL, so the
 * number of series stays bounded; a request no route matched is `route="unmatched"`.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';

/** Seconds: health probes and cached replays take milliseconds, `Prefer: wait` up to 30 s. */
export const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Adds the metrics (to `registry`, a new one by default) and the `/metrics` route; returns the registry. */
export function installHttpMetrics(app: FastifyInstance, registry: Registry = new Registry()): Registry {
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status code',
    labelNames,
    buckets: HTTP_DURATION_BUCKETS_S,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}
