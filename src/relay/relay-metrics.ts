/** The relay's Prometheus metrics: published/failed/parked counters and lag/parked gauges per source. */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Knex } from 'knex';
import { blockedCount, outboxLagMs, parkedCount } from './outbox-stats';

export interface RelayMetrics {
  registry: Registry;
  published: Counter<'source'>;
  failures: Counter<'source'>;
  parkedNow: Counter<'source'>;
}

export function createRelayMetrics(sources: Array<{ name: string; db: Knex }>): RelayMetrics {
  const registry = new Registry();
  const published = new Counter({
    name: 'outbox_published_total',
    help: 'Events the transport acknowledged',
    labelNames: ['source'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'outbox_publish_failures_total',
    help: 'Failed publish attempts',
    labelNames: ['source'],
    registers: [registry],
  });
  const parkedNow = new Counter({
    name: 'outbox_parked_total',
    help: 'Events parked by this process',
    labelNames: ['source'],
    registers: [registry],
  });
  new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest unpublished event',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      for (const s of sources) this.set({ source: s.name }, (await outboxLagMs(s.db)) / 1000);
    },
  });
  new Gauge({
    name: 'outbox_parked',
    help: 'Events parked after too many failed attempts (need a human)',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      for (const s of sources) this.set({ source: s.name }, await parkedCount(s.db));
    },
  });
  new Gauge({
    name: 'outbox_blocked_by_parked',
    help: 'Unpublished events waiting behind a parked event of their aggregate',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      for (const s of sources) this.set({ source: s.name }, await blockedCount(s.db));
    },
  });
  return { registry, published, failures, parkedNow };
}
