/**
 * One chaos run: start every process, drive the workload while the seeded fault schedule kills
 * processes and cuts the services' network, then stop the faults, wait for the system to go
 * quiet and audit every database. Returns the report that `npm run chaos` prints.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { deleteStreamQuietly } from '../nats-stream-cleanup';
import { createTestDatabase, type TestDatabase } from '../pg';
import { audit, openAuditDb, replayViolations } from './auditor';
import { ChaosCluster } from './cluster';
import { createServiceNetwork, unavailableReason, type ServiceNetwork } from './netns';
import { seededRng } from '../random';
import { faultSchedule, type FaultEvent } from './schedule';
import { startTcpForward, type TcpForward } from './tcp-forward';
import { ApiClient, planTrips, runTrip, type TripKind, type TripRun } from './workload';

export interface ChaosOptions {
  trips: number;
  durationMs: number;
  seed: number;
  postgres: boolean;
  /** Run a worker whose saga registers each compensation only after its step succeeded. */
  breakMode?: 'compensation-after-step';
  /** FAULTS for the booking services while faults are on. */
  serviceFaults: string;
  workers: number;
  concurrency: number;
  /** How long the system has, once quiet, for every trip to reach a terminal status. */
  settleMs: number;
  network: boolean;
  natsUrl: string;
  /** Draw trips only of these kinds (default: every kind, weighted). */
  kinds?: TripKind[];
  keepDir?: boolean;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  backend: 'sqlite' | 'postgres';
  broken: string | null;
  trips: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  violations: string[];
  faults: Record<string, number>;
  network: string;
  maxTimeToTerminalMs: number;
  events: number;
  emails: number;
  duplicatesSuppressed: number;
  clientRetries: number;
  processCrashes: string[];
  elapsedMs: number;
  logs?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const rng = seededRng(options.seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-chaos-'));
  const runId = randomBytes(4).toString('hex');
  let db: TestDatabase | undefined;
  let network: ServiceNetwork | undefined;
  let forward: TcpForward | undefined;
  let natsForward: TcpForward | undefined;
  let cluster: ChaosCluster | undefined;
  const faults: Record<string, number> = {};
  let networkNote = 'off';
  try {
    if (options.network) {
      const why = unavailableReason();
      if (why) networkNote = `no network faults: ${why}`;
      else {
        network = createServiceNetwork();
        networkNote = network.netemAvailable
          ? `services in network namespace ${network.name}; partitions by link down`
          : `services in network namespace ${network.name}; partitions by link down; no loss/delay: this kernel has no netem qdisc`;
      }
    }
    let serviceDatabaseUrl: string | undefined;
    let serviceNatsUrl: string | undefined;
    if (options.postgres) {
      db = await createTestDatabase('chaos');
      if (network) {
        // The services reach PostgreSQL and NATS through forwarders on the host end of the link,
        // so a partition cuts them off from both.
        forward = await startTcpForward(network.hostAddress, { host: '127.0.0.1', port: 5432 });
        serviceDatabaseUrl = db.url.replace(/@[^/]+\//, `@${network.hostAddress}:${forward.port}/`);
        const nats = new URL(options.natsUrl);
        natsForward = await startTcpForward(network.hostAddress, {
          host: nats.hostname,
          port: Number(nats.port || 4222),
        });
        serviceNatsUrl = `nats://${network.hostAddress}:${natsForward.port}`;
      }
    }
    const schedule = faultSchedule(rng, options.durationMs, { partitions: !!network });
    log(`seed ${options.seed}; ${schedule.length} faults: ${schedule.map(describe).join(', ')}`);
    cluster = await ChaosCluster.create({
      dir,
      workers: options.workers,
      serviceFaults: options.serviceFaults,
      databaseUrl: db?.url,
      serviceDatabaseUrl,
      serviceNatsUrl,
      natsUrl: options.postgres ? options.natsUrl : undefined,
      network,
      workerEntry: options.breakMode ? 'src/testkit/chaos/broken-worker.ts' : undefined,
      extraEnv: {
        OUTBOX_STREAM: `CHAOS_${runId}`,
        OUTBOX_SUBJECT_PREFIX: `chaos-${runId}.events`,
        OUTBOX_DURABLE: `chaos-${runId}`,
      },
    });
    await cluster.startAll();
    log(`all processes up in ${Date.now() - started} ms (${dir})`);
    const c = cluster;

    // The workload, paced over the fault window, at most `concurrency` trips in flight.
    const faultsEndAt = Date.now() + options.durationMs;
    // A client keeps retrying through the faults and for the settle time after them.
    let clientDeadline = faultsEndAt + options.settleMs;
    const api = new ApiClient(c.apiUrl, c.apiToken, () => clientDeadline);
    const trips = planTrips(rng, options.trips, runId, c.principal, options.kinds);
    const workloadRng = seededRng(options.seed ^ 0x5eed);
    const spacing = (options.durationMs * 0.8) / Math.max(1, options.trips);
    const t0 = Date.now();
    const inFlight = new Set<Promise<void>>();
    const workload = (async () => {
      for (const trip of trips) {
        await sleep(Math.max(0, t0 + trip.index * spacing - Date.now()));
        while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
        const p: Promise<void> = runTrip(api, trip, workloadRng).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
    })();

    // The faults, on schedule; anything that dies on its own is restarted and counted.
    const downUntil = new Map<string, number>();
    const crashes: string[] = [];
    let supervisor = supervise(c, downUntil, crashes, log);
    for (const event of schedule) {
      await sleep(Math.max(0, t0 + event.atMs - Date.now()));
      if (event.kind === 'kill') {
        downUntil.set(event.target, Date.now() + event.downMs);
        await c.kill(event.target);
        faults[`kill:${event.target}`] = (faults[`kill:${event.target}`] ?? 0) + 1;
      } else if (network) {
        network.partition();
        faults.partition = (faults.partition ?? 0) + 1;
        setTimeout(() => network?.heal(), event.downMs);
      }
    }
    await sleep(Math.max(0, faultsEndAt - Date.now()));
    // Faults stop: the network heals, every process runs, the services lose their FAULTS.
    await supervisor.stop();
    network?.heal();
    log(`faults over after ${Date.now() - t0} ms; calming the services`);
    downUntil.clear();
    for (const name of c.names()) if (!c.isRunning(name)) await c.start(name);
    await c.calmServices();
    supervisor = supervise(c, downUntil, crashes, log);
    await workload;
    log(`workload sent after ${Date.now() - t0} ms; waiting for every trip to end`);
    // The bound on "every trip ends once the faults stop", counted from the last request sent.
    const quietBy = Date.now() + options.settleMs;
    await waitTerminal(trips, { dataDir: c.env.DATA_DIR as string, databaseUrl: db?.url }, quietBy);
    // Let the relay drain what the last outcomes announced.
    await waitOutboxDrained(
      { dataDir: c.env.DATA_DIR as string, databaseUrl: db?.url },
      Math.max(quietBy, Date.now() + 30_000),
    );
    await supervisor.stop();

    const report = await audit(
      trips,
      { dataDir: c.env.DATA_DIR as string, databaseUrl: db?.url },
      { principal: c.principal },
    );
    const duplicatesSuppressed = trips.reduce((n, t) => n + t.replays, 0);
    // API replays: the same key and body again answer byte for byte as first answered.
    clientDeadline = Date.now() + 120_000;
    for (const trip of trips) {
      if (!trip.accepted) continue;
      const replay = await api.send(trip, '/trips', trip.key, trip.request);
      report.violations.push(...replayViolations(trip, replay));
    }
    const byKind: Record<string, number> = {};
    for (const t of trips) byKind[t.kind] = (byKind[t.kind] ?? 0) + 1;
    // Availability within the bound: a trip the client could not get accepted before the faults
    // had been over for --settle seconds counts against the run, sent or not.
    for (const t of trips)
      if (!t.accepted)
        report.violations.push(
          t.sentAtMs === 0
            ? `${t.tripId} (${t.kind}): never sent — the workload fell behind the settle bound`
            : `${t.tripId} (${t.kind}): the API never accepted it (${t.retries} tries; ${t.errors[0] ?? 'no answer'})`,
        );
    return {
      seed: options.seed,
      backend: options.postgres ? 'postgres' : 'sqlite',
      broken: options.breakMode ?? null,
      trips: trips.length,
      byStatus: report.byStatus,
      byKind,
      violations: report.violations,
      faults,
      network: networkNote,
      maxTimeToTerminalMs: report.maxTimeToTerminalMs,
      events: report.events,
      emails: report.emails,
      duplicatesSuppressed,
      clientRetries: trips.reduce((n, t) => n + t.retries, 0),
      processCrashes: crashes,
      elapsedMs: Date.now() - started,
      ...(options.keepDir ? { logs: dir } : {}),
    };
  } finally {
    await cluster?.stopAll();
    network?.heal();
    network?.destroy();
    await forward?.close();
    await natsForward?.close();
    await db?.drop();
    if (options.postgres) await deleteStreamQuietly(options.natsUrl, `CHAOS_${runId}`);
    if (!options.keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Restarts what is down past its scheduled downtime; a process that died unscheduled counts as a
 * crash. Each restart runs on its own: a worker waiting for a Temporal server that is still down
 * must not hold up that server's own restart.
 */
function supervise(
  c: ChaosCluster,
  downUntil: Map<string, number>,
  crashes: string[],
  log: (line: string) => void,
): { stop(): Promise<void> } {
  let stopping = false;
  const starting = new Map<string, Promise<void>>();
  const loop = (async () => {
    while (!stopping) {
      for (const name of c.names()) {
        if (stopping) break;
        if (starting.has(name) || c.isRunning(name) || (downUntil.get(name) ?? 0) > Date.now()) continue;
        if (!downUntil.has(name)) crashes.push(name);
        downUntil.delete(name);
        const started = c
          .start(name)
          .catch((err) => log(`restart of ${name} failed: ${String(err)}`))
          .finally(() => starting.delete(name));
        starting.set(name, started);
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      await Promise.allSettled(starting.values());
    },
  };
}

function describe(e: FaultEvent): string {
  const at = `${(e.atMs / 1000).toFixed(1)}s`;
  return e.kind === 'kill' ? `${at} kill ${e.target} (${e.downMs} ms)` : `${at} partition (${e.downMs} ms)`;
}

const TERMINAL = ['CONFIRMED', 'COMPENSATED', 'CANCELLED', 'NEEDS_ATTENTION'];

async function waitTerminal(
  trips: TripRun[],
  where: { dataDir: string; databaseUrl?: string },
  deadline: number,
): Promise<void> {
  const ids = new Set(trips.filter((t) => t.accepted && t.accepted.status < 300).map((t) => t.tripId));
  const db = openAuditDb('api', where);
  try {
    while (Date.now() < deadline) {
      const rows = (await db('trips').select('trip_id', 'status')) as Array<{ trip_id: string; status: string }>;
      const open = rows.filter((r) => ids.has(r.trip_id) && !TERMINAL.includes(r.status)).length;
      const missing = ids.size - rows.filter((r) => ids.has(r.trip_id)).length;
      if (open === 0 && missing === 0) return;
      await sleep(1_000);
    }
  } finally {
    await db.destroy();
  }
}

async function waitOutboxDrained(where: { dataDir: string; databaseUrl?: string }, deadline: number): Promise<void> {
  const names = ['flight', 'hotel', 'car', 'payment', 'api'] as const;
  const dbs = names.map((n) => openAuditDb(n, where));
  const inboxDb = openAuditDb('notifications', where);
  try {
    while (Date.now() < deadline) {
      let pending = 0;
      let total = 0;
      for (const db of dbs) {
        const [row] = (await db('outbox').count({ n: '*' }).whereNull('published_at')) as Array<{ n: number | string }>;
        const [all] = (await db('outbox').count({ n: '*' })) as Array<{ n: number | string }>;
        pending += Number(row?.n ?? 0);
        total += Number(all?.n ?? 0);
      }
      const [applied] = (await inboxDb('inbox').count({ n: '*' })) as Array<{ n: number | string }>;
      if (pending === 0 && Number(applied?.n ?? 0) >= total) return;
      await sleep(500);
    }
  } finally {
    await Promise.allSettled([...dbs, inboxDb].map((db) => db.destroy()));
  }
}
