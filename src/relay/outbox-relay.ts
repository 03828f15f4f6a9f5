/**
 * The relay core: one polling loop per source database, publishing due events in batches through
 * a transport and marking them only after it acknowledged them (at-least-once). It logs a JSON
 * report line (published, lag, parked) periodically and purges old published rows.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { dialectOf } from '../db/knex';
import {
  blockedCount,
  outboxLagMs,
  parkedCount,
  processBatch,
  purgePublished,
  type BatchResult,
  type MarkPolicy,
  type PublishOutcome,
} from './batch';
import { aggregateKey, envelopeOf, type OutboxRow } from '../outbox/event';
import { listenForOutbox } from './outbox-listener';
import type { RelayMetrics } from './relay-metrics';
import { isTransientFailure, type Transport } from './transport';

export interface RelaySource {
  name: string;
  db: Knex;
}

export interface RelayOptions extends MarkPolicy {
  batchSize: number;
  pollIntervalMs: number;
  retentionMs: number;
  purgeIntervalMs?: number;
  reportIntervalMs?: number;
  /** Runs after a batch was published and before it is marked (the crash test's hook). */
  afterPublish?: () => void;
  logger?: Logger;
  metrics?: RelayMetrics;
}

/** Sleeps `ms`, or less when aborted or woken through `wakers` (a NOTIFY for this source). */
const sleep = (ms: number, signal: AbortSignal, wakers?: Map<string, () => void>, key?: string) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      if (key) wakers?.delete(key);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    if (key) wakers?.set(key, done);
  });

/**
 * Publishes a batch: events of one aggregate in order, one after another; aggregates in parallel.
 * A failure is marked transient (the transport's, see `isTransientFailure`) or not (the event's).
 */
async function publishChains(source: string, rows: OutboxRow[], transport: Transport): Promise<PublishOutcome[]> {
  const chains = new Map<string, OutboxRow[]>();
  for (const r of rows) {
    const key = aggregateKey(r.aggregate_type, r.aggregate_id);
    chains.set(key, [...(chains.get(key) ?? []), r]);
  }
  const outcomes: PublishOutcome[] = [];
  await Promise.all(
    [...chains.values()].map(async (chain) => {
      for (const row of chain) {
        try {
          await transport.publish(envelopeOf(source, row));
          outcomes.push({ seq: row.seq, ok: true });
        } catch (err) {
          // Later events of this aggregate wait for this one (they stay unpublished, untouched).
          const error = err instanceof Error ? err.message : String(err);
          outcomes.push({ seq: row.seq, ok: false, error, ...(isTransientFailure(err) && { transientFailures: 0 }) });
          return;
        }
      }
    }),
  );
  return outcomes;
}

export class OutboxRelay {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly wakers = new Map<string, () => void>();
  private listening?: Promise<(() => Promise<void>) | undefined>;
  readonly totals = new Map<string, { published: number; failed: number; parked: number }>();
  /** Batches in a row whose publishes failed because the transport was unreachable (the backoff). */
  private transientStreak = 0;

  constructor(
    private readonly sources: RelaySource[],
    private readonly transport: Transport,
    private readonly options: RelayOptions,
  ) {
    for (const s of sources) this.totals.set(s.name, { published: 0, failed: 0, parked: 0 });
  }

  /** Claims, publishes and marks one batch of one source. */
  async drainOnce(source: RelaySource): Promise<BatchResult> {
    const result = await processBatch(
      source.db,
      this.options.batchSize,
      this.options,
      async (rows) => {
        const outcomes = await publishChains(source.name, rows, this.transport);
        const transient = outcomes.filter((o) => !o.ok && o.transientFailures !== undefined);
        if (transient.length > 0) this.transientStreak += 1;
        else if (outcomes.some((o) => o.ok)) this.transientStreak = 0;
        for (const o of transient) if (!o.ok) o.transientFailures = this.transientStreak;
        return outcomes;
      },
      this.options.afterPublish,
    );
    const t = this.totals.get(source.name) ?? { published: 0, failed: 0, parked: 0 };
    t.published += result.published;
    t.failed += result.failed;
    t.parked += result.parked;
    this.totals.set(source.name, t);
    const m = this.options.metrics;
    if (m) {
      m.published.inc({ source: source.name }, result.published);
      m.failures.inc({ source: source.name }, result.failed);
      m.parkedNow.inc({ source: source.name }, result.parked);
    }
    if (result.failed > 0) this.options.logger?.warn({ source: source.name, ...result }, 'outbox publish failures');
    return result;
  }

  /** Publishes until nothing due is left in any source (tests and benchmarks). */
  async drainAll(): Promise<number> {
    let total = 0;
    for (;;) {
      let round = 0;
      for (const s of this.sources) round += (await this.drainOnce(s)).published;
      total += round;
      if (round === 0) return total;
    }
  }

  async report(): Promise<
    Array<{ source: string; published: number; lagMs: number; parked: number; blockedByParked: number }>
  > {
    return Promise.all(
      this.sources.map(async (s) => ({
        source: s.name,
        published: this.totals.get(s.name)?.published ?? 0,
        lagMs: await outboxLagMs(s.db),
        parked: await parkedCount(s.db),
        blockedByParked: await blockedCount(s.db),
      })),
    );
  }

  /** Wakes the loop of the source whose schema is named (all loops when none matches). */
  wake(schema: string): void {
    const one = this.wakers.get(schema);
    if (one) one();
    else if (!this.sources.some((s) => s.name === schema)) [...this.wakers.values()].forEach((w) => w());
  }

  start(): void {
    const signal = this.abort.signal;
    const pgSource = this.sources.find((s) => dialectOf(s.db) === 'pg');
    if (pgSource) {
      this.listening = listenForOutbox(pgSource.db, (schema) => this.wake(schema), this.options.logger).catch(
        (err: unknown) => {
          this.options.logger?.warn({ err }, 'outbox LISTEN failed; polling only');
          return undefined;
        },
      );
    }
    this.loops = this.sources.map(async (source) => {
      let lastPurge = 0;
      while (!signal.aborted) {
        try {
          const result = await this.drainOnce(source);
          if (Date.now() - lastPurge > (this.options.purgeIntervalMs ?? 60_000)) {
            lastPurge = Date.now();
            const purged = await purgePublished(source.db, this.options.retentionMs);
            if (purged > 0) this.options.logger?.info({ source: source.name, purged }, 'outbox retention purge');
          }
          // A full batch means more is waiting: go again at once; otherwise poll.
          if (result.claimed < this.options.batchSize)
            await sleep(this.options.pollIntervalMs, signal, this.wakers, source.name);
        } catch (err) {
          this.options.logger?.error({ source: source.name, err }, 'outbox relay loop error');
          await sleep(Math.max(this.options.pollIntervalMs, 1000), signal);
        }
      }
    });
    this.loops.push(
      (async () => {
        while (!signal.aborted) {
          await sleep(this.options.reportIntervalMs ?? 10_000, signal);
          if (signal.aborted) break;
          for (const line of await this.report().catch(() => []))
            this.options.logger?.info(line, 'outbox relay report');
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    const unlisten = await this.listening;
    await unlisten?.();
  }
}
