/**
 * The relay core: one polling loop per source database, publishing due events in batches through
 * a transport and marking them only after it acknowledged them (at-least-once). It logs a JSON
 * report line (published, lag, parked) periodically and purges old published rows.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { dialectOf } from '../db/knex';
import type { BatchResult, MarkPolicy } from './mark-batch';
import { listenForOutbox, setRelayIdle } from './outbox-listener';
import { blockedCount, outboxLagMs, parkedCount } from './outbox-stats';
import { processBatch } from './process-batch';
import { publishChains } from './publish-chains';
import { purgePublished } from './purge-published';
import type { RelayMetrics } from './relay-metrics';
import type { Transport } from './transport';

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
  /** Batches of one PostgreSQL source in flight at once, each in its own transaction (default 2). */
  concurrentBatches?: number;
  /** Publishes in flight at once per batch; defaults to the transport's own bound. */
  publishWindow?: number;
  /** Runs after a batch was published and before it is marked (the crash test's hook). */
  afterPublish?: () => void;
  /** Runs after each acknowledged publish of a batch with the count so far (the crash-mid-window test's hook). */
  onAck?: (acked: number) => void;
  logger?: Logger;
  metrics?: RelayMetrics;
}

/** After it published something, a source is polled this often for this long (no NOTIFY needed meanwhile). */
const HOT_POLL_MS = 10;
const HOT_FOR_MS = 1000;

const laneKey = (source: RelaySource, lane: number) => `${source.name}#${lane}`;

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
      async (chains) => {
        const window = this.options.publishWindow ?? this.transport.maxInFlight ?? 64;
        const outcomes = await publishChains(source.name, chains, this.transport, window, {
          onAck: this.options.onAck,
        });
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

  /** The main loop of one source: drains, purges, polls hot after traffic, and asks for a NOTIFY when idle. */
  private async runSource(source: RelaySource, signal: AbortSignal, lanes: number): Promise<void> {
    let lastPurge = 0;
    let hotUntil = 0;
    // Whether writers were told to NOTIFY (unknown at start: another relay may have left it either way).
    let idleFlag: boolean | undefined;
    const flag = async (idle: boolean) => {
      if (idleFlag === idle) return;
      await setRelayIdle(source.db, idle);
      idleFlag = idle;
    };
    while (!signal.aborted) {
      try {
        const result = await this.drainOnce(source);
        if (Date.now() - lastPurge > (this.options.purgeIntervalMs ?? 60_000)) {
          lastPurge = Date.now();
          const purged = await purgePublished(source.db, this.options.retentionMs);
          if (purged > 0) this.options.logger?.info({ source: source.name, purged }, 'outbox retention purge');
        }
        // A full batch means more is waiting: go again at once, and bring in the other lanes.
        if (result.claimed >= this.options.batchSize) {
          for (let i = 1; i < lanes; i++) this.wakers.get(laneKey(source, i))?.();
          continue;
        }
        if (result.claimed > 0) hotUntil = Date.now() + HOT_FOR_MS;
        if (Date.now() < hotUntil) {
          // Traffic flows: poll briefly and spare the writers a NOTIFY (it serialises their commits).
          await flag(false);
          await sleep(Math.min(HOT_POLL_MS, this.options.pollIntervalMs), signal);
        } else if (idleFlag !== true) {
          // Going idle: ask writers for a NOTIFY, then look once more (a commit may have slipped in).
          await flag(true);
        } else {
          await sleep(this.options.pollIntervalMs, signal, this.wakers, source.name);
        }
      } catch (err) {
        this.options.logger?.error({ source: source.name, err }, 'outbox relay loop error');
        idleFlag = undefined;
        await sleep(Math.max(this.options.pollIntervalMs, 1000), signal);
      }
    }
  }

  /**
   * Another batch of the same source in flight while the main loop's is (a backlog): it claims in
   * its own transaction, so row locks keep it off the aggregates the other batches hold.
   */
  private async runLane(source: RelaySource, signal: AbortSignal, lane: number): Promise<void> {
    while (!signal.aborted) {
      try {
        const result = await this.drainOnce(source);
        if (result.claimed < this.options.batchSize)
          await sleep(this.options.pollIntervalMs, signal, this.wakers, laneKey(source, lane));
      } catch (err) {
        this.options.logger?.error({ source: source.name, lane, err }, 'outbox relay loop error');
        await sleep(Math.max(this.options.pollIntervalMs, 1000), signal);
      }
    }
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
    this.loops = this.sources.flatMap((source) => {
      // SQLite has no row locks: one batch at a time there.
      const lanes = dialectOf(source.db) === 'pg' ? Math.max(1, this.options.concurrentBatches ?? 2) : 1;
      return [
        this.runSource(source, signal, lanes),
        ...Array.from({ length: lanes - 1 }, (_, i) => this.runLane(source, signal, i + 1)),
      ];
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
