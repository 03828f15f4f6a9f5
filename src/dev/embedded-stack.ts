/**
 * The whole embedded stack on this machine (what `npm start` runs). A Temporal dev server (SQLite file under
 * .data/, Web UI), the booking services, the worker and the other processes, then a sample trip.
 * Runs until Ctrl-C, which stops every process it started. Set TEMPORAL_ADDRESS to use an
 * existing Temporal server instead of starting one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import knexFactory from 'knex';
import { DEV_PAYLOAD_KEYS_FILE, loadConfig, type Config } from '../config';
import { DEV_SERVER_SEARCH_ATTRIBUTE_ARGS } from '../shared/search-attributes';
import { parseTripRequest } from '../shared/trip-schema';
import { connectClient } from '../temporal/connection';
import { generatePayloadKey } from '../temporal/payload-codec';
import { readTrip, runUrl } from '../trips/trip-view';
import { startBookTrip } from '../trips/trip-workflows';
import { waitForEmails } from '../services/notifications/wait-for-email';
import { ChildProcesses, type Child } from './child-processes';
import { DEV_SERVER_PERFORMANCE_ARGS } from './dev-server-args';
import { PROJECT_ROOT } from './project-root';
import { startTrip, waitForTripEnd, type Flavor, type FlavorDeps } from '../flavors';
import { assertPreparedTransactions } from '../twophase/availability';
import { openApiDatabase } from '../trips/trip-records';
import { embeddedNatsArgs, embeddedNatsUrlOf, recordEmbeddedNatsUrl } from './embedded-nats';
import { natsServerPath, temporalCliPath } from './temporal-binaries';

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const log = (msg: string) => console.log(`[start] ${msg}`);

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  children: Child[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of children) {
      if (c.process.exitCode !== null) {
        const tail = fs.readFileSync(c.logPath, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
        throw new Error(
          `${c.spec.name} exited (${c.process.exitCode}) while waiting for ${what}; last lines of ${c.logPath}:\n${tail}`,
        );
      }
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function temporalServerArgs(config: Config): string[] {
  const [host, port] = config.temporal.address.split(':') as [string, string];
  return [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    port,
    '--ui-port',
    String(config.temporal.uiPort),
    '--db-filename',
    path.join(config.dataDir, 'temporal.db'),
    '--namespace',
    config.temporal.namespace,
    '--log-level',
    'warn',
    // The Web UI decodes encrypted payloads through the trip API's codec endpoint.
    ...(config.codec.keys.length > 0 ? ['--ui-codec-endpoint', `${config.services.api.url}/codec`] : []),
    ...DEV_SERVER_SEARCH_ATTRIBUTE_ARGS,
    ...DEV_SERVER_PERFORMANCE_ARGS,
  ];
}

async function bookSampleTrip(config: Config): Promise<void> {
  const client = await connectClient(config);
  try {
    const request = parseTripRequest(
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'trip.json'), 'utf8')),
    );
    const workflowId = `trip-sample-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    await startBookTrip(client, config.temporal.taskQueue, workflowId, request);
    log(`booked sample trip ${workflowId}; waiting for it to finish…`);
    const deadline = Date.now() + 60_000;
    // A query fails while the first workflow task is still being retried; keep asking.
    const read = () => readTrip(client, workflowId).catch(() => undefined);
    let snapshot = await read();
    while ((!snapshot || snapshot.executionStatus === 'RUNNING') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      snapshot = await read();
    }
    if (!snapshot)
      throw new Error(
        `could not read sample trip ${workflowId}; see ${path.join(config.dataDir, 'logs', 'worker.log')}`,
      );
    log(`sample trip ${workflowId}: ${snapshot.view.status}`);
    log(
      `  see it in the Web UI: ${runUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId, snapshot.runId)}`,
    );
    const emails = await waitForEmails(config.services.notifications.url, workflowId);
    for (const email of emails) log(`  email sent to ${email.to}: "${email.subject}"`);
    if (emails.length === 0) log(`  no email yet (see ${path.join(config.dataDir, 'logs', 'relay.log')})`);
  } finally {
    await client.connection.close();
  }
}

/** The same sample through another flavour (choreographed: events alone; 2pc: the coordinator). */
async function bookFlavorSample(config: Config, flavor: Flavor, deps: Pick<FlavorDeps, 'natsUrl' | 'twophaseUrl'>) {
  const client = await connectClient(config);
  const db = await openApiDatabase(config);
  try {
    const request = parseTripRequest(
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'trip.json'), 'utf8')),
    );
    const tripId = `trip-sample-${flavor}-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    const all: FlavorDeps = { temporal: client, taskQueue: config.temporal.taskQueue, apiDb: async () => db, ...deps };
    await startTrip(all, flavor, { tripId, request, principal: null });
    const view = await waitForTripEnd(all, flavor, tripId, 60_000);
    log(`${flavor} sample trip ${tripId}: ${view?.status ?? 'not recorded'}`);
    log(`  try: npm run client -- book examples/trip.json --flavor ${flavor} --wait`);
  } finally {
    await db.destroy();
    await client.connection.close();
  }
}

/**
 * Why this stack cannot run the 2pc flavour, or undefined when it can: the services on a
 * PostgreSQL server (DATABASE_URL) with prepared transactions on.
 */
async function twoPhaseUnavailableBecause(config: Config): Promise<string | undefined> {
  if (!config.databaseUrl) {
    return 'the services run on SQLite; set DATABASE_URL to a PostgreSQL server with max_prepared_transactions > 0 (docs/two-phase-commit.md)';
  }
  const db = knexFactory({ client: 'pg', connection: config.databaseUrl, pool: { min: 0, max: 1 } });
  try {
    await assertPreparedTransactions(db);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await db.destroy();
  }
}

let children: ChildProcesses | undefined;
let stopping = false;
/** Set while this launcher runs the NATS server: its DATA_DIR, where its URL is recorded. */
let embeddedNatsDataDir: string | undefined;

/** Stops every process this launcher started, then exits with `code`. */
export async function stopEmbeddedStack(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping every process this launcher started…');
  await children?.stopAll();
  if (embeddedNatsDataDir) recordEmbeddedNatsUrl(embeddedNatsDataDir, undefined);
  process.exit(code);
}

/**
 * The trip API needs a bearer token: unless API_TOKENS is set, a dev token is made once and kept
 * in DATA_DIR so it stays the same across restarts.
 */
function devApiToken(dataDir: string): string | undefined {
  if (process.env.API_TOKENS) return undefined;
  const file = path.join(dataDir, 'dev-api-token');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * Temporal payloads are encrypted: unless PAYLOAD_KEYS is set, a development key is made once and
 * kept in DATA_DIR (loadConfig reads it there, so `npm run client` in another shell has it too).
 */
function ensureDevPayloadKey(dataDir: string): void {
  if (process.env.PAYLOAD_KEYS) return;
  const file = path.join(dataDir, DEV_PAYLOAD_KEYS_FILE);
  if (fs.existsSync(file)) return;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${generatePayloadKey(`dev-${new Date().toISOString().slice(0, 10)}`)}\n`, { mode: 0o600 });
}

/** Starts every process, books the sample trip and keeps running until a signal. */
export async function runEmbeddedStack(): Promise<void> {
  const token = devApiToken(loadConfig().dataDir);
  // Children inherit the environment: the API accepts the dev token as principal "dev".
  if (token) process.env.API_TOKENS = `${token}:dev`;
  ensureDevPayloadKey(loadConfig().dataDir);
  // The dev server's Web UI has no login: its origin may use the codec endpoint (loopback only).
  if (loadConfig().temporal.startDevServer && process.env.CODEC_ALLOW_UI_ORIGIN === undefined) {
    process.env.CODEC_ALLOW_UI_ORIGIN = '1';
  }
  const config = loadConfig();
  children = new ChildProcesses(config.dataDir);
  await children.reapOrphans(log);
  process.once('SIGINT', () => void stopEmbeddedStack(0));
  process.once('SIGTERM', () => void stopEmbeddedStack(0));

  const started: Child[] = [];
  if (config.temporal.startDevServer) {
    const cli = temporalCliPath(config);
    started.push(children.start({ name: 'temporal', command: cli, args: temporalServerArgs(config) }));
    log(
      `Temporal dev server starting on ${config.temporal.address} (state in ${path.join(config.dataDir, 'temporal.db')})`,
    );
  }
  if (!config.natsUrl) {
    // Children inherit NATS_URL: the relay publishes to JetStream, notifications and the
    // choreography's participants consume there.
    const url = embeddedNatsUrlOf(config);
    started.push(children.start({ name: 'nats', command: natsServerPath(config), args: embeddedNatsArgs(config) }));
    log(`NATS server (JetStream) starting at ${url} (data in ${path.join(config.dataDir, 'nats')})`);
    await waitFor(`NATS at ${url}`, () => portOpen(config.nats.port), 30_000, started);
    process.env.NATS_URL = url;
    recordEmbeddedNatsUrl(config.dataDir, url);
    embeddedNatsDataDir = config.dataDir;
  }
  await waitFor(
    `Temporal at ${config.temporal.address}`,
    async () => {
      const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '1 second' });
      await connection.close();
      return true;
    },
    120_000,
    started,
  );

  const tsx = (name: string, file: string, args: string[] = []): Child | undefined => {
    const entry = path.join(PROJECT_ROOT, file);
    if (!fs.existsSync(entry)) return undefined;
    return children?.start({ name, command: process.execPath, args: ['--import', 'tsx', entry, ...args] });
  };
  for (const child of [
    tsx('services', 'src/processes/services.ts'),
    tsx('notifications', 'src/processes/notifications.ts'),
    tsx('api', 'src/processes/api.ts'),
    tsx('relay', 'src/processes/relay.ts'),
    tsx('worker', 'src/workers/worker.ts'),
  ]) {
    if (child) started.push(child);
  }
  // Two-phase commit needs prepared transactions; a coordinator at TWOPHASE_URL is someone else's.
  const noTwoPhase = process.env.TWOPHASE_URL
    ? undefined
    : await twoPhaseUnavailableBecause(config).catch((err: unknown) => String(err));
  const coordinator =
    process.env.TWOPHASE_URL || noTwoPhase ? undefined : tsx('coordinator', 'src/processes/twophase-coordinator.ts');
  if (coordinator) started.push(coordinator);
  else if (noTwoPhase) log(`two-phase commit (--flavor 2pc) is off: ${noTwoPhase}`);
  const healthChecks: Array<[string, string]> = (['flight', 'hotel', 'car', 'payment'] as const).map((n) => [
    `${n} service`,
    config.services[n].url,
  ]);
  if (started.some((c) => c.spec.name === 'notifications'))
    healthChecks.push(['notifications', config.services.notifications.url]);
  if (started.some((c) => c.spec.name === 'api')) healthChecks.push(['trip API', config.services.api.url]);
  if (coordinator) healthChecks.push(['2PC coordinator', config.twophase.url]);
  for (const [what, url] of healthChecks) {
    await waitFor(what, async () => (await fetch(`${url}/healthz`)).ok, 60_000, started);
  }
  log(
    `services up: ${(['flight', 'hotel', 'car', 'payment'] as const).map((n) => `${n} ${config.services[n].url}`).join(', ')}`,
  );
  log(`logs of every process: ${path.join(config.dataDir, 'logs')}`);

  for (const child of started) {
    void child.exited.then((code) => {
      if (!stopping) {
        log(`${child.spec.name} exited unexpectedly (${code}); see ${child.logPath}`);
        void stopEmbeddedStack(1);
      }
    });
  }
  await bookSampleTrip(config);
  if (process.env.NATS_URL) await bookFlavorSample(config, 'choreographed', { natsUrl: process.env.NATS_URL });
  if (coordinator) await bookFlavorSample(config, '2pc', { twophaseUrl: config.twophase.url });
  log(`Temporal Web UI: ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
  if (started.some((c) => c.spec.name === 'api')) {
    log(`trip API: ${config.services.api.url}  (Authorization: Bearer ${token ?? '<a token from API_TOKENS>'})`);
  }
  log(`emails sent: ${config.services.notifications.url}/emails?tripId=<trip id>`);
  log('running; press Ctrl-C to stop everything');
}
