/**
 * Reads the monitoring files under deploy/ the way Prometheus and Grafana would for what the
 * tests need: the scrape targets of deploy/prometheus/prometheus.yml, the PromQL of every panel
 * of deploy/grafana/dashboards/*.json and the metric names it selects, and the metric names a
 * `/metrics` exposition actually carries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_DIR } from './compose-file';

export const PROMETHEUS_CONFIG = path.join(PROJECT_DIR, 'deploy', 'prometheus', 'prometheus.yml');
export const DASHBOARDS_DIR = path.join(PROJECT_DIR, 'deploy', 'grafana', 'dashboards');

export interface ScrapeTarget {
  job: string;
  /** `host:port` on the compose network (a service name for DNS discovery). */
  address: string;
  discovery: 'static' | 'dns';
  labels: Record<string, string>;
  metricsPath: string;
}

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
  [key: string]: unknown;
}

export interface PrometheusConfig {
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

export function readPrometheusConfig(file = PROMETHEUS_CONFIG): PrometheusConfig {
  return parse(fs.readFileSync(file, 'utf8')) as PrometheusConfig;
}

/** Every target Prometheus scrapes, static or discovered through compose's DNS (one per name). */
export function scrapeTargets(config: PrometheusConfig = readPrometheusConfig()): ScrapeTarget[] {
  return config.scrape_configs.flatMap((job) => {
    const metricsPath = job.metrics_path ?? '/metrics';
    const statics = (job.static_configs ?? []).flatMap((sc) =>
      sc.targets.map((address) => ({
        job: job.job_name,
        address,
        discovery: 'static' as const,
        labels: sc.labels ?? {},
        metricsPath,
      })),
    );
    const dns = (job.dns_sd_configs ?? []).flatMap((sd) => {
      if ((sd.type ?? 'SRV') !== 'A' || sd.port === undefined)
        throw new Error(`${job.job_name}: compose DNS has A records only; give type: A and a port`);
      return sd.names.map((name) => ({
        job: job.job_name,
        address: `${name}:${sd.port}`,
        discovery: 'dns' as const,
        labels: {},
        metricsPath,
      }));
    });
    return [...statics, ...dns];
  });
}

interface DashboardPanel {
  title?: string;
  type?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  [key: string]: unknown;
}

export function readDashboards(dir = DASHBOARDS_DIR): Array<{ file: string; dashboard: Dashboard }> {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Dashboard }));
}

/** Every panel (rows' nested panels included), in order. */
export function dashboardPanels(dashboard: Dashboard): DashboardPanel[] {
  const walk = (panels: DashboardPanel[]): DashboardPanel[] => panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return walk(dashboard.panels);
}

/** The PromQL of every panel query: `{ panel, expr }`. */
export function dashboardQueries(dashboard: Dashboard): Array<{ panel: string; expr: string }> {
  return dashboardPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).flatMap((t) => (t.expr ? [{ panel: p.title ?? '(untitled)', expr: t.expr }] : [])),
  );
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects, as written (`x_bucket` stays `x_bucket`): string
 * literals, label matchers, ranges, grouping label lists, Grafana variables and numbers are
 * dropped, and an identifier followed by `(` is a function or an aggregation, not a metric.
 */
export function promqlMetricNames(expr: string): string[] {
  if (/__name__/.test(expr)) throw new Error(`selecting by __name__ is not supported: ${expr}`);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[0-9.][a-zA-Z0-9_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = m[0];
    if (/^[0-9.]/.test(token) || PROMQL_KEYWORDS.has(token)) continue;
    if (/^\s*\(/.test(stripped.slice((m.index ?? 0) + token.length))) continue;
    names.add(token);
  }
  return [...names];
}

/**
 * The metric names a Prometheus text exposition carries: `sampled` (names on sample lines, with
 * their `_bucket`/`_sum`/`_count`/`_total` as written) and `declared` (those `# TYPE` announces,
 * expanded the same way: a labelled prom-client counter nobody incremented yet has no sample).
 */
export function exposedMetricNames(text: string): { sampled: Set<string>; declared: Set<string> } {
  const sampled = new Set<string>();
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      const suffixes =
        kind === 'histogram'
          ? ['_bucket', '_sum', '_count']
          : kind === 'summary'
            ? ['', '_sum', '_count']
            : kind === 'counter' && !name.endsWith('_total')
              ? ['_total']
              : [''];
      for (const s of suffixes) declared.add(`${name}${s}`);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1]) sampled.add(sample[1]);
  }
  return { sampled, declared };
}
