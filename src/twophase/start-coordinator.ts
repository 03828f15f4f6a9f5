/**
 * Opens the decision log (schema `twophase` of DATABASE_URL), checks prepared transactions are on,
 * recovers what a previous coordinator left, keeps recovering on an interval and listens.
 */
import type { Config } from '../config';
import { openDatabase, type Db } from '../db/knex';
import { STEPS, type StepName } from '../shared/trip';
import { assertPreparedTransactions, TwoPhaseUnavailableError } from './availability';
import { TwoPhaseCoordinator } from './coordinator';
import { buildCoordinatorApp } from './coordinator-app';
import { DecisionLog, decisionLogMigrations } from './decision-log';

export interface RunningCoordinator {
  coordinator: TwoPhaseCoordinator;
  url: string;
  db: Db;
  close(): Promise<void>;
}

export async function startCoordinator(
  config: Config,
  options: { port?: number; logger?: boolean | { level: string }; log?: (msg: string, err?: unknown) => void } = {},
): Promise<RunningCoordinator> {
  if (!config.databaseUrl) throw new TwoPhaseUnavailableError('DATABASE_URL is not set (the services run on SQLite)');
  const db = await openDatabase('api', config, { name: 'twophase', migrations: decisionLogMigrations });
  try {
    await assertPreparedTransactions(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const participants = Object.fromEntries(STEPS.map((s) => [s, config.services[s].url])) as Record<StepName, string>;
  const coordinator = new TwoPhaseCoordinator({
    log: new DecisionLog(db),
    participants,
    prepareTimeoutMs: config.twophase.prepareTimeoutMs,
    testCrash: config.twophase.testCrash,
    onError: (err, tripId) => options.log?.(`two-phase trip ${tripId} failed; recovery will finish it`, err),
  });
  let recovering: Promise<unknown> | undefined;
  // One pass at a time: a tick that finds a pass running skips (a slow participant makes passes long).
  const recoverNow = () =>
    (recovering ??= coordinator
      .recover()
      .catch((err: unknown) => options.log?.('two-phase recovery failed', err))
      .finally(() => (recovering = undefined)));
  await recoverNow();
  const timer = setInterval(() => void recoverNow(), config.twophase.recoveryIntervalMs);
  const app = buildCoordinatorApp({ coordinator, logger: options.logger });
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: options.port ?? config.twophase.port });
  } catch (err) {
    clearInterval(timer);
    coordinator.stop();
    await db.destroy();
    throw err;
  }
  return {
    coordinator,
    db,
    url: address.replace('0.0.0.0', '127.0.0.1'),
    async close() {
      clearInterval(timer);
      coordinator.stop();
      await app.close();
      await recovering;
      await coordinator.drain();
      await db.destroy();
    },
  };
}
