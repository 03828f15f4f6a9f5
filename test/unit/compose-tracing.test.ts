/** docker-compose.yml's tracing wiring (docs/tracing.md): processes → collector → Jaeger, whose UI is published. */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { PROJECT_DIR, projectServices, readComposeFile, serviceEnv } from '../support/compose-file';

const compose = readComposeFile();

interface CollectorConfig {
  receivers: { otlp: { protocols: { http: { endpoint: string } } } };
  exporters: Record<string, { endpoint: string }>;
  service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
}

it('sends every project process its spans to the collector, which forwards them to Jaeger', () => {
  const collector = compose.services['otel-collector'] as { volumes?: string[] };
  const mount = (collector.volumes ?? []).find((v) => v.includes('collector.yaml')) ?? '';
  const file = path.join(PROJECT_DIR, mount.split(':')[0] ?? '');
  const config = parse(fs.readFileSync(file, 'utf8')) as CollectorConfig;
  const httpPort = config.receivers.otlp.protocols.http.endpoint.split(':')[1];
  for (const [name, s] of projectServices(compose)) {
    const tracing = loadConfig(serviceEnv(s)).tracing;
    expect({ name, exporter: tracing.exporter, url: tracing.url }).toEqual({
      name,
      exporter: 'otlp',
      url: `http://otel-collector:${httpPort}/v1/traces`,
    });
    // Empty turns it off, for a deployment without a collector.
    expect(loadConfig(serviceEnv(s, { OTEL_EXPORTER_OTLP_ENDPOINT: '' })).tracing.exporter).toBe('none');
  }
  const { traces } = config.service.pipelines;
  expect(traces.receivers).toEqual(['otlp']);
  const targets = traces.exporters.map((e) => new URL(`http://${config.exporters[e]?.endpoint}`).hostname);
  expect(targets).toEqual(['jaeger']);
  expect(compose.services.jaeger?.ports).toEqual(['16686:16686']);
});
