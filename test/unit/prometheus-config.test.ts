/**
 * The monitoring files under deploy/ against docker-compose.yml and the project's configuration:
 * Prometheus scrapes every project process at the port it serves /metrics on, Grafana gets that
 * Prometheus as the datasource its dashboards name, and neither is reachable from off the host.
 * (test/system/dashboard-metrics.test.ts checks the dashboards' queries against real scrapes.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, type BookingServiceName, type Config } from '../../src/config';
import {
  PROJECT_DIR,
  projectServices,
  readComposeFile,
  serviceEnv,
  sourceEntry,
  type ComposeService,
} from '../support/compose-file';
import {
  PROMETHEUS_CONFIG,
  dashboardPanels,
  dashboardQueries,
  exposedMetricNames,
  promqlMetricNames,
  readDashboards,
  readPrometheusConfig,
  scrapeTargets,
} from '../support/dashboards';

const compose = readComposeFile();
const targets = scrapeTargets();
const prometheus = compose.services.prometheus ?? {};
const grafana = compose.services.grafana ?? {};

/** The port a project service serves `/metrics` on, as its compose environment configures it. */
function metricsPort(service: ComposeService): number {
  const config: Config = loadConfig(serviceEnv(service));
  const { script, args } = sourceEntry(service);
  switch (script) {
    case 'src/workers/worker.ts':
      return config.worker.metricsPort;
    case 'src/processes/relay.ts':
      return config.outbox.metricsPort;
    case 'src/processes/api.ts':
      return config.services.api.port;
    case 'src/processes/notifications.ts':
      return config.services.notifications.port;
    case 'src/processes/services.ts':
      if (args.length !== 1) throw new Error(`one booking service per container, not ${args.join(' ')}`);
      return config.services[args[0] as BookingServiceName].port;
    default:
      throw new Error(`no metrics port known for ${script}`);
  }
}

/** `source:target` volume mounts of a service (relative sources resolved against the project). */
function mounts(service: ComposeService): Array<{ source: string; target: string }> {
  return ((service.volumes as string[] | undefined) ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source: source.startsWith('.') ? path.join(PROJECT_DIR, source) : source, target };
  });
}

describe('deploy/prometheus/prometheus.yml', () => {
  it('scrapes every project service of docker-compose.yml, at the port its configuration serves /metrics on', () => {
    const expected = projectServices(compose).map(([name, s]) => `${name}:${metricsPort(s)}`);
    expect(targets.map((t) => t.address).sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThanOrEqual(8);
    for (const t of targets)
      expect({ target: t.address, path: t.metricsPath }).toEqual({ target: t.address, path: '/metrics' });
  });

  it('finds the replicas of a scaled service through compose DNS, and names each other service once', () => {
    for (const [name, s] of projectServices(compose)) {
      const scraped = targets.filter((t) => t.address.split(':')[0] === name);
      const scaled = (s.deploy?.replicas ?? 1) > 1;
      expect({ name, discovery: scraped.map((t) => t.discovery) }).toEqual({
        name,
        discovery: [scaled ? 'dns' : 'static'],
      });
    }
    expect(targets.find((t) => t.address.startsWith('worker:'))?.discovery).toBe('dns');
    const jobs = readPrometheusConfig().scrape_configs.map((j) => j.job_name);
    expect(new Set(jobs).size).toBe(jobs.length);
  });

  it('labels each booking service target with its service name (the dashboard groups by it)', () => {
    const services = targets.filter((t) => t.job === 'services');
    expect(services.map((t) => `${t.labels.service}:${t.address.split(':')[0]}`).sort()).toEqual(
      ['car', 'flight', 'hotel', 'payment'].map((n) => `${n}:${n}`),
    );
  });
});

describe('Prometheus and Grafana in docker-compose.yml', () => {
  it('runs Prometheus on this configuration file, on the network of the processes it scrapes', () => {
    const configFile = (prometheus.command as string[]).find((a) => a.startsWith('--config.file='))?.split('=')[1];
    expect(mounts(prometheus)).toContainEqual({ source: PROMETHEUS_CONFIG, target: configFile });
    for (const [name, s] of projectServices(compose))
      expect({ name, networks: s.networks }).toEqual({ name, networks: prometheus.networks });
  });

  it('provisions Grafana with that Prometheus as the datasource every dashboard panel names', () => {
    const provisioning = mounts(grafana).find((m) => m.target === '/etc/grafana/provisioning');
    expect(provisioning?.source).toBe(path.join(PROJECT_DIR, 'deploy', 'grafana', 'provisioning'));
    const datasources = fs.readdirSync(path.join(provisioning!.source, 'datasources')).flatMap(
      (f) =>
        (
          parse(fs.readFileSync(path.join(provisioning!.source, 'datasources', f), 'utf8')) as {
            datasources: Array<{ uid: string; type: string; url: string }>;
          }
        ).datasources,
    );
    expect(datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(prometheus.ports).toEqual([expect.stringMatching(/:9090$/)]);
    const uid = datasources[0]!.uid;

    const providers = fs.readdirSync(path.join(provisioning!.source, 'dashboards')).flatMap(
      (f) =>
        (
          parse(fs.readFileSync(path.join(provisioning!.source, 'dashboards', f), 'utf8')) as {
            providers: Array<{ type: string; options: { path: string } }>;
          }
        ).providers,
    );
    const dashboardsMount = mounts(grafana).find((m) => m.target === providers[0]?.options.path);
    expect(providers.map((p) => p.type)).toEqual(['file']);
    expect(dashboardsMount?.source).toBe(path.join(PROJECT_DIR, 'deploy', 'grafana', 'dashboards'));

    const dashboards = readDashboards(dashboardsMount!.source);
    expect(dashboards.map((d) => d.file)).toContain('trip-saga.json');
    for (const { file, dashboard } of dashboards) {
      for (const panel of dashboardPanels(dashboard).filter((p) => p.type !== 'row')) {
        const used = [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)].map((d) => d?.uid);
        expect({ file, panel: panel.title, used }).toEqual({ file, panel: panel.title, used: used.map(() => uid) });
      }
    }
  });

  it('publishes both on the host loopback only, Grafana read-only without a login and its admin password from the environment', () => {
    for (const s of [prometheus, grafana]) {
      expect(s.ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/)]);
    }
    const env = serviceEnv(grafana, { GRAFANA_ADMIN_PASSWORD: 's3cret' });
    expect(env).toMatchObject({
      GF_SECURITY_ADMIN_PASSWORD: 's3cret',
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
    });
  });
});

describe('reading PromQL and expositions (what the dashboard test relies on)', () => {
  it('finds the metric names a query selects, not its functions, labels, variables or numbers', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, activity) (rate(trip_step_duration_bucket{kind="compensation",job=~"w.*"}[$__rate_interval])))',
      ),
    ).toEqual(['trip_step_duration_bucket']);
    expect(
      promqlMetricNames(
        'sum(rate(a_total[5m])) / ignoring(instance) group_left(step) b offset 1h or on() vector(0) > bool 1e-3',
      ),
    ).toEqual(['a_total', 'b']);
    expect(promqlMetricNames('label_replace(c, "dst", "$1 sum(x)", "src", "(.*)") and max without (job) (d)')).toEqual([
      'c',
      'd',
    ]);
  });

  it('reads sampled names as written and declared ones with their histogram and counter suffixes', () => {
    const text = [
      '# HELP h Time',
      '# TYPE h histogram',
      '# TYPE c_total counter',
      '# TYPE t counter',
      'h_bucket{le="+Inf"} 1',
      'h_count 1',
      'g 0',
    ].join('\n');
    const { sampled, declared } = exposedMetricNames(text);
    expect([...sampled].sort()).toEqual(['g', 'h_bucket', 'h_count']);
    expect([...declared].sort()).toEqual(['c_total', 'h_bucket', 'h_count', 'h_sum', 't_total']);
  });

  it('finds at least one metric in every query of every dashboard', () => {
    const queries = readDashboards().flatMap(({ dashboard }) => dashboardQueries(dashboard));
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const q of queries)
      expect({ panel: q.panel, some: promqlMetricNames(q.expr).length > 0 }).toEqual({ panel: q.panel, some: true });
  });
});
