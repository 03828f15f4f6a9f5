/** The periodic job that deletes idempotency keys past their retention (the published policy). */
import type { FastifyBaseLogger } from 'fastify';
import type { IdempotencyStore } from './store';

export interface PurgeJob {
  /** Runs one purge now; resolves with how many keys were deleted. */
  runOnce(): Promise<number>;
  stop(): void;
}

export function startPurgeJob(store: IdempotencyStore, intervalMs: number, log: FastifyBaseLogger): PurgeJob {
  let running: Promise<number> | undefined;
  const runOnce = () => {
    // One purge at a time: a slow one is not stacked up by the next tick.
    running ??= store.purgeExpired().finally(() => (running = undefined));
    return running;
  };
  const tick = () => {
    runOnce().then(
      (n) => n > 0 && log.info({ purged: n }, 'expired idempotency keys purged'),
      (err: unknown) => log.error({ err }, 'idempotency key purge failed'),
    );
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return { runOnce, stop: () => clearInterval(timer) };
}
