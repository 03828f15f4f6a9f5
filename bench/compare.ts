/**
 * `npm run compare [-- --trips 20 --concurrency 1,8]`: the same trips through the three saga
 * flavours — orchestrated (Temporal), choreographed (events over NATS JetStream), two-phase commit —
 * each on its own database of one private PostgreSQL cluster, measured alike: sagas/s and p50/p99
 * start → end per concurrency (every tenth trip declined at payment), HTTP requests, other round
 * trips and PostgreSQL transactions per trip (counted), how long rows stay locked, whether an
 * outsider ever sees a partial trip, and a SIGKILL of the flavour's coordinating process mid-trip.
 * Every trip is audited (invariants 1-2); a violation fails the run (exit 1). Prints one JSON line
 * per flavour on stdout and the tables on stderr. Needs NATS at NATS_URL (default 127.0.0.1:4222)
 * and the PostgreSQL server binaries (src/testkit/private-postgres.ts).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import knexFactory from 'knex';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { startPrivatePostgres, type PrivatePostgres } from '../src/testkit/private-postgres';
import { freePort } from '../src/testkit/free-port';
import { auditOutcomes, closedLoop, declined, type TripOutcome } from './bench-support';
import { watchDbs } from './compare/counters';
import { FLAVORS, type FlavorName, type FlavorUnderTest } from './compare/flavor';
import { runKillScenario } from './compare/kill';
import { startOrchestrated } from './compare/orchestrated';
import { startChoreographed } from './compare/choreographed';
import { watchTrips } from './compare/outsider';
import { runPhase, snapshot, tripOn, type PhaseReport, type Watches } from './compare/phase';
import { renderTables, type FlavorReport } from './compare/table';
import { startTwoPhase, type CrashPoint } from './compare/two-phase';

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      trips: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '1,8' },
      observe: { type: 'string', default: '3' },
      'conflict-timeout-ms': { type: 'string', default: '2000' },
      crash: { type: 'string', default: 'after-decision' },
      flavors: { type: 'string', default: FLAVORS.join(',') },
    },
  });
  const positive = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer`);
    return n;
  };
  const flavors = values.flavors.split(',') as FlavorName[];
  if (flavors.some((f) => !FLAVORS.includes(f))) throw new Error(`--flavors: some of ${FLAVORS.join(',')}`);
  if (values.crash !== 'after-decision' && values.crash !== 'after-prepare') {
    throw new Error('--crash: after-decision or after-prepare');
  }
  return {
    trips: positive('trips', values.trips),
    concurrencies: values.concurrency.split(',').map((c) => positive('concurrency', c)),
    observe: positive('observe', values.observe),
    conflictTimeoutMs: positive('conflict-timeout-ms', values['conflict-timeout-ms']),
    crash: values.crash as CrashPoint,
    flavors,
  };
}

type Options = ReturnType<typeof parseOptions>;

async function startFlavor(name: FlavorName, cluster: PrivatePostgres, options: Options, metricsUrl: string) {
  const database = `cmp_${name === '2pc' ? 'twophase' : name}`;
  const url = await cluster.createDatabase(database);
  const createDatabase = (n: string) => cluster.createDatabase(n);
  if (name === 'orchestrated') return startOrchestrated(url, database, metricsUrl);
  if (name === 'choreographed') return startChoreographed(url, database, createDatabase);
  return startTwoPhase(url, database, createDatabase, options.crash);
}

/** Every measurement of one flavour; its stacks are stopped before it returns. */
async function measure(flavor: FlavorUnderTest, cluster: PrivatePostgres, options: Options, run: string) {
  const admin = knexFactory({ client: 'pg', connection: cluster.adminUrl, pool: { min: 0, max: 1 } });
  const watches: Watches = {
    admin,
    services: watchDbs(flavor.services.map((s) => s.db)),
    tripState: watchDbs(flavor.tripStateDbs),
    observer: watchDbs(flavor.observerDbs),
  };
  let k = 0;
  const trip = (tag: string, i: number, decline = declined(i)) => ({
    tripId: `trip-cmp-${run}-${tag}-${i}`,
    request: tripOn(k++, decline),
    expected: decline ? 'COMPENSATED' : 'CONFIRMED',
  });
  const outcomes: TripOutcome[] = [];
  try {
    // Connections, JIT and (orchestrated) the workflow bundle are not measured.
    const warmup = await closedLoop(2, 2, async (i) => {
      const { tripId, request, expected } = trip('warmup', i, false);
      return { workflowId: tripId, status: await flavor.book(tripId, request), expected };
    });
    outcomes.push(...warmup.results.map(({ workflowId, status, expected }) => ({ workflowId, status, expected })));
    const background = (await flavor.background?.()) ?? null;
    const phases: PhaseReport[] = [];
    const phaseTrips: string[] = [];
    // Each phase starts from the counters the previous one ended with (reading them takes seconds).
    let counters = await snapshot(flavor, watches);
    for (const concurrency of options.concurrencies) {
      const trips = Array.from({ length: options.trips }, (_, i) => trip(`c${concurrency}`, i));
      const phase = await runPhase(flavor, watches, concurrency, trips, counters);
      counters = phase.after;
      phases.push(phase.report);
      outcomes.push(...phase.outcomes);
      phaseTrips.push(...trips.map((t) => t.tripId));
    }
    const engine = (await flavor.engineStorage?.(phaseTrips)) ?? null;
    const watched = [...Array.from({ length: options.observe }, (_, i) => trip('outsider', i, false))];
    watched.push(trip('outsider', options.observe, true));
    const outsider = await watchTrips(flavor, watched);
    outcomes.push(...outsider.outcomes);
    const target = await flavor.killTarget();
    let kill;
    try {
      const { tripId, request } = trip('kill', 0, false);
      kill = await runKillScenario(target, tripId, request, options.conflictTimeoutMs);
    } finally {
      await target.stop();
    }
    const violations = [...(await auditOutcomes(flavor.config, outcomes)), ...kill.violations];
    return { phases, background, engine, outsider: outsider.report, kill, audited: outcomes.length + 1, violations };
  } finally {
    for (const w of [watches.services, watches.tripState, watches.observer]) w.stop();
    await admin.destroy();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const metricsPort = await freePort();
  // The worker's own log lines would drown the output; its RPC counters are read from Prometheus.
  const runtime = Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} },
      metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}`, countersTotalSuffix: true } },
    },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const cluster = await startPrivatePostgres({ max_connections: 300 });
  const reports: FlavorReport[] = [];
  let failed = false;
  try {
    const version = await serverVersion(cluster.adminUrl);
    const run = randomUUID().slice(0, 8);
    for (const name of options.flavors) {
      const flavor = await startFlavor(name, cluster, options, metricsUrl);
      let result;
      try {
        result = await measure(flavor, cluster, options, run);
      } finally {
        await flavor.stop();
      }
      for (const v of result.violations.slice(0, 20)) console.error(`violation: ${name}: ${v}`);
      if (result.violations.length > 0) failed = true;
      const report = { flavor: name, ...result, violations: result.violations.length };
      reports.push(report);
      console.log(
        JSON.stringify({
          compare: 'flavor',
          flavor: name,
          database: `${flavor.database} on a private PostgreSQL ${version} cluster`,
          workload: {
            tripsPerConcurrency: options.trips,
            declinedAtPayment: 'every tenth trip',
            inventory: 'every trip on days of its own (no two trips share a row)',
          },
          ...result,
          violations: result.violations.length,
        }),
      );
    }
    console.error(renderTables(reports));
  } finally {
    cluster.stop();
    // Installed with a metrics endpoint, the SDK's runtime would keep the process alive.
    await runtime.shutdown().catch(() => undefined);
  }
  if (failed) process.exitCode = 1;
}

async function serverVersion(adminUrl: string): Promise<string> {
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    const r = await admin.raw<{ rows: Array<{ server_version: string }> }>('SHOW server_version');
    return r.rows[0]?.server_version.split(' ')[0] ?? 'unknown';
  } finally {
    await admin.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
