/**
 * A process whose collector cannot be reached still stops cleanly: the tracing shutdown drops the
 * spans it cannot export instead of throwing (a worker's drain once exited 1 on
 * `getaddrinfo ENOTFOUND otel-collector` outside compose).
 */
import { trace } from '@opentelemetry/api';
import { loadConfig } from '../../src/config';
import { startTracing } from '../../src/observability/tracing';

it('resolves its shutdown when the OTLP endpoint does not resolve', async () => {
  const tracing = startTracing(
    loadConfig({ ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.invalid:4318' }),
    'test',
  );
  expect(tracing).toBeDefined();
  trace.getTracer('test').startSpan('a span to export').end();
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  try {
    await expect(tracing?.shutdown()).resolves.toBeUndefined();
  } finally {
    spy.mockRestore();
  }
  expect(errors.join('\n')).toMatch(/could not be exported/);
}, 30_000);
