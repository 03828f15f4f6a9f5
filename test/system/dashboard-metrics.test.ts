/**
 * Every metric a Grafana panel queries (deploy/grafana/dashboards/*.json) is one the processes
 * really export. docker-compose.yml's project services run as local processes (as in
 * scale.test.ts), trips are booked (confirmed, compensated, one needing attention) and every
 * target of deploy/prometheus/prometheus.yml is scraped, at the local port its compose address
 * (`service:port`) was given.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { FailureType } from '../../src/shared/failures';
import { connectClient } from '../../src/temporal/connection';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { waitHealthy } from '../support/compose-processes';
import { startIsolatedComposeStack, type ComposeStack, type IsolatedComposeStack } from '../support/compose-stack';
import {
  dashboardQueries,
  exposedMetricNames,
  promqlMetricNames,
  readDashboards,
  scrapeTargets,
  type ScrapeTarget,
} from '../support/dashboards';
import { startRefusingUndoProxy, type RefusingUndoProxy } from '../support/refusing-undo-proxy';

/**
 * Series that appear only after a fault this test does not cause (an event that fails the
 * notifications consumer's checks): for these the process's `# TYPE` declaration is enough; every
 * other queried metric must have samples.
 */
const DECLARED_UNTIL_A_FAULT = new Set(['notifications_events_rejected_total']);

let isolated: IsolatedComposeStack;
let stack: ComposeStack;
let client: Client;
/** The worker reaches flight through this proxy, which refuses to undo trips named `needs-attention`. */
let flightProxy: RefusingUndoProxy;
const scraped = new Map<string, string>();

const targets = scrapeTargets();
const queries = readDashboards().flatMap(({ file, dashboard }) =>
  dashboardQueries(dashboard).map((q) => ({ file, ...q, names: promqlMetricNames(q.expr) })),
);

beforeAll(async () => {
  isolated = await startIsolatedComposeStack('dashboards', {
    // The one worker is started below, behind the refusing proxy.
    replicas: (name, composed) => (name === 'worker' ? 0 : composed),
  });
  stack = isolated.stack;
  flightProxy = await startRefusingUndoProxy(`http://${stack.ports.get('flight:4001')}`, 'needs-attention');
  const worker = await stack.start('worker', 0, { FLIGHT_URL: flightProxy.url });
  await waitHealthy(worker, stack.healthUrl('worker', worker), 150_000);
  client = await connectClient(loadConfig(worker.env));

  const api = stack.byName('api');
  const token = (api.env.API_TOKENS ?? '').split(',')[0]!.split(':')[0];
  const post = (request = sampleTrip()) =>
    fetch(`http://127.0.0.1:${api.env.API_PORT}/trips`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
        prefer: 'wait=30',
      },
      body: JSON.stringify(request),
    }).then(async (r) => ({ code: r.status, status: ((await r.json()) as { status: string }).status }));
  const booked = [await post(), await post(sampleTrip({ payment: { token: 'tok_declined' } }))];
  expect(booked).toEqual([
    { code: 201, status: 'CONFIRMED' },
    { code: 201, status: 'COMPENSATED' },
  ]);
  const request = sampleTrip({ hotel: { hotelId: 'H-FULL' } });
  await expect(
    client.workflow.execute(bookTrip, {
      ...tripStartOptions(request, `trip-needs-attention-${randomUUID()}`, loadConfig(worker.env).temporal.taskQueue),
      args: [request],
    }),
  ).rejects.toMatchObject({ cause: { type: FailureType.NeedsAttention } });

  // The worker exports the saga's counters once the workflow task that moved them completed.
  const deadline = Date.now() + 30_000;
  for (;;) {
    await scrapeAll();
    const worker = exposedMetricNames(scraped.get('worker:9464') ?? '').sampled;
    if (worker.has('trip_compensation_failures_total') || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
}, 400_000);

afterAll(async () => {
  await client?.connection.close();
  await isolated?.stop();
  await flightProxy?.close();
}, 60_000);

/** The local address a compose `service:port` target was given. */
function local(target: ScrapeTarget): string {
  const address = stack.ports.get(target.address);
  if (!address) throw new Error(`${target.job}: no local process listens for ${target.address}`);
  return address;
}

async function scrapeAll(): Promise<void> {
  for (const target of targets) {
    const res = await fetch(`http://${local(target)}${target.metricsPath}`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`${target.job} ${target.address}: /metrics answered ${res.status}`);
    scraped.set(target.address, await res.text());
  }
}

describe('the Grafana dashboards', () => {
  it('query metrics in every panel, and name them so that this test can find them', () => {
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const q of queries)
      expect({ panel: q.panel, names: q.names.length > 0 }).toEqual({ panel: q.panel, names: true });
  });

  it('query only metrics that the scraped processes export', () => {
    const sampled = new Set<string>();
    const declared = new Set<string>();
    for (const text of scraped.values()) {
      const names = exposedMetricNames(text);
      names.sampled.forEach((n) => sampled.add(n));
      names.declared.forEach((n) => declared.add(n));
    }
    const missing = queries.flatMap((q) =>
      q.names
        .filter((n) => !sampled.has(n) && !(DECLARED_UNTIL_A_FAULT.has(n) && declared.has(n)))
        .map((n) => `${q.file} "${q.panel}": ${n}`),
    );
    expect(missing).toEqual([]);
  });

  it('scrape every target Prometheus is given, each with metrics of its own', () => {
    expect(new Set(targets.map((t) => t.job))).toEqual(
      new Set(['worker', 'relay', 'api', 'services', 'notifications']),
    );
    for (const target of targets) {
      const names = exposedMetricNames(scraped.get(target.address) ?? '').sampled;
      expect({ target: target.address, some: names.size > 0 }).toEqual({ target: target.address, some: true });
    }
    const byTarget = (address: string) => exposedMetricNames(scraped.get(address) ?? '').sampled;
    expect(byTarget('worker:9464')).toContain('trip_step_duration_bucket');
    expect(byTarget('relay:9465')).toContain('outbox_lag_seconds');
    expect(byTarget('api:3000')).toContain('http_requests_total');
    expect(scraped.get('api:3000')).toMatch(
      /^http_requests_total\{method="POST",route="\/trips",status_code="201"\} 2$/m,
    );
    expect(byTarget('payment:4004')).toContain('http_request_duration_seconds_bucket');
  });
});
