/**
 * The two-phase-commit flavour for `npm run compare`: src/testkit/two-phase-stack.ts on the
 * compare's cluster (prepared transactions on), the coordinator in this process. Its kill scenario
 * runs a coordinator process that SIGKILLs itself between the phases (TWOPHASE_TEST_CRASH) and
 * starts another one, which recovers the trip from the decision log.
 */
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import knexFactory from 'knex';
import type { TwoPhaseConfig } from '../../src/config';
import type { TripView } from '../../src/shared/trip';
import { isTerminalStatus } from '../../src/shared/trip-status';
import { startTwoPhaseStack } from '../../src/testkit/two-phase-stack';
import { readTwoPhaseTrip, startTwoPhaseTrip } from '../../src/twophase';
import { DECISION_LOG_TABLE } from '../../src/twophase/decision-log';
import { watchDbs } from './counters';
import type { FlavorUnderTest, KillTarget } from './flavor';

export type CrashPoint = 'after-prepare' | 'after-decision';

/** Asks the coordinator until the trip is settled; counts the requests in `counter`. */
async function waitForTwoPhaseEnd(config: TwoPhaseConfig, tripId: string, counter = { calls: 0 }): Promise<TripView> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    counter.calls++;
    const view = await readTwoPhaseTrip(config, tripId, { waitMs: 30_000 });
    if (view && isTerminalStatus(view.status)) return view;
    if (Date.now() > deadline) throw new Error(`two-phase trip ${tripId} did not end: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startTwoPhase(
  databaseUrl: string,
  database: string,
  createDatabase: (name: string) => Promise<string>,
  crash: CrashPoint,
): Promise<FlavorUnderTest> {
  // Recovery passes are measured once (background()), not left to run on a timer during the phases.
  const stack = await startTwoPhaseStack({ databaseUrl, env: { TWOPHASE_RECOVERY_INTERVAL_MS: '3600000' } });
  const running = stack.coordinator;
  if (!running) throw new Error('the two-phase stack started no coordinator');
  const client = { calls: 0 };
  const services = Object.values(stack.services);
  return {
    name: '2pc',
    config: stack.config,
    database,
    services,
    tripStateDbs: [running.db],
    observerDbs: [],
    async book(tripId, request) {
      client.calls++;
      await startTwoPhaseTrip(stack.config.twophase, tripId, request);
      return (await waitForTwoPhaseEnd(stack.config.twophase, tripId, client)).status;
    },
    async network() {
      return { clientToCoordinator: client.calls };
    },
    async decidedAt(tripId) {
      const row = await running.db(DECISION_LOG_TABLE).where({ trip_id: tripId }).first();
      return row?.decided_at === null || row?.decided_at === undefined ? undefined : Number(row.decided_at);
    },
    async background() {
      const requests = () => services.reduce((n, s) => n + s.stats.requests, 0);
      const watch = watchDbs([running.db, ...services.map((s) => s.db)]);
      const before = requests();
      await running.coordinator.recover();
      watch.stop();
      return {
        recoveryPass: {
          httpRequests: requests() - before,
          transactionsSent: watch.counts().transactions,
          everyMs: 'TWOPHASE_RECOVERY_INTERVAL_MS (default 2000); off during the phases here',
        },
      };
    },
    killTarget: () => twoPhaseKillTarget(createDatabase, crash),
    stop: () => stack.stop(),
  };
}

async function twoPhaseKillTarget(
  createDatabase: (name: string) => Promise<string>,
  crash: CrashPoint,
): Promise<KillTarget> {
  const databaseUrl = await createDatabase('cmp_2pc_kill');
  const stack = await startTwoPhaseStack({ databaseUrl, inProcessCoordinator: false });
  const log = knexFactory({
    client: 'pg',
    connection: databaseUrl,
    searchPath: ['twophase'],
    pool: { min: 0, max: 2 },
  });
  let victim: ChildProcess;
  let exited: Promise<unknown>;
  try {
    victim = await stack.spawnCoordinator({ TWOPHASE_TEST_CRASH: crash });
    exited = once(victim, 'exit');
  } catch (err) {
    await log.destroy();
    await stack.stop();
    throw err;
  }
  return {
    victim: `the 2PC coordinator process, SIGKILLed ${crash === 'after-decision' ? 'after logging its decision, before phase 2' : 'after phase 1, before any decision'} (TWOPHASE_TEST_CRASH=${crash})`,
    config: stack.config,
    databaseUrl,
    when: 'self',
    expected: crash === 'after-decision' ? 'CONFIRMED' : 'COMPENSATED',
    async start(tripId, request) {
      // The answer may or may not leave before the kill; the trip is logged either way.
      await startTwoPhaseTrip(stack.config.twophase, tripId, request).catch(() => undefined);
    },
    async kill() {
      await exited;
    },
    async status(tripId) {
      // No coordinator runs: the log says where the trip stands.
      const row = await log(DECISION_LOG_TABLE).where({ trip_id: tripId }).first();
      return row ? `${row.status} (decision log)` : undefined;
    },
    async restart() {
      await stack.spawnCoordinator();
    },
    async waitForEnd(tripId) {
      return (await waitForTwoPhaseEnd(stack.config.twophase, tripId)).status;
    },
    notes: {
      restart: 'a new npm run coordinator process; it recovers the log before it listens',
      crashPoint: crash,
    },
    async stop() {
      await log.destroy();
      await stack.stop();
    },
  };
}
