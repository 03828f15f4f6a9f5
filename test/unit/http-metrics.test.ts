/** The HTTP metrics every app serves on /metrics: counted by route template and status, timed. */
import { createHttpApp } from '../../src/http/app';
import { installHttpMetrics } from '../../src/observability/http-metrics';

function appWithMetrics() {
  const app = createHttpApp();
  installHttpMetrics(app);
  app.get('/trips/:tripId', async (request, reply) =>
    (request.params as { tripId: string }).tripId === 'missing' ? reply.code(404).send({}) : { ok: true },
  );
  return app;
}

it('counts requests by method, route template and status code, a request no route matched as unmatched', async () => {
  const app = appWithMetrics();
  for (const url of ['/trips/t-1', '/trips/t-2', '/trips/missing', '/nowhere/at/all'])
    await app.inject({ method: 'GET', url });
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  const lines = res.body.split('\n').filter((l) => l.startsWith('http_requests_total{'));
  expect(lines.sort()).toEqual([
    'http_requests_total{method="GET",route="/trips/:tripId",status_code="200"} 2',
    'http_requests_total{method="GET",route="/trips/:tripId",status_code="404"} 1',
    'http_requests_total{method="GET",route="unmatched",status_code="404"} 1',
  ]);
  expect(res.body).toMatch(
    /^http_request_duration_seconds_count\{method="GET",route="\/trips\/:tripId",status_code="200"\} 2$/m,
  );
  await app.close();
});

it('keeps each app its own series (the four booking services share a process under npm start)', async () => {
  const [a, b] = [appWithMetrics(), appWithMetrics()];
  await a.inject({ method: 'GET', url: '/trips/t-1' });
  const body = (await b.inject({ method: 'GET', url: '/metrics' })).body;
  expect(body).toContain('# TYPE http_requests_total counter');
  expect(body).not.toMatch(/^http_requests_total\{/m);
  await Promise.all([a.close(), b.close()]);
});
