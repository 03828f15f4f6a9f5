/**
 * `npm start`: the whole embedded stack on this machine. A Temporal dev server (SQLite file under
 * .data/, Web UI), the booking services, the worker and the other processes, then a sample trip.
 * Runs until Ctrl-C, which stops every process it started. Set TEMPORAL_ADDRESS to use an
 * existing Temporal server instead of starting one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { DEV_SERVER_SEARCH_ATTRIBUTE_ARGS } from '../shared/search-attributes';
import { parseTripRequest } from '../shared/trip-schema';
import { connectClient } from '../temporal/connection';
import { readTrip, runUrl } from '../trips/trip-view';
import { bookTrip } from '../workflows';
import { ChildProcesses, type Child } from './child-processes';
import { PROJECT_ROOT } from './project-root';
import { temporalCliPath } from './temporal-binaries';

const log = (msg: string) => console.log(`[start] ${msg}`);

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, children: Child[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of children) {
      if (c.process.exitCode !== null) throw new Error(`${c.spec.name} exited (${c.process.exitCode}) while waiting for ${what}; see ${c.logPath}`);
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
    ...DEV_SERVER_SEARCH_ATTRIBUTE_ARGS,
  ];
}

async function bookSampleTrip(config: Config): Promise<void> {
  const client = await connectClient(config);
  try {
    const request = parseTripRequest(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'trip.json'), 'utf8')));
    const workflowId = `trip-sample-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}`;
    await client.workflow.start(bookTrip, { taskQueue: config.temporal.taskQueue, workflowId, args: [request] });
    log(`booked sample trip ${workflowId}; waiting for it to finish…`);
    const deadline = Date.now() + 60_000;
    // A query fails while the first workflow task is still being retried; keep asking.
    const read = () => readTrip(client, workflowId).catch(() => undefined);
    let snapshot = await read();
    while ((!snapshot || snapshot.executionStatus === 'RUNNING') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      snapshot = await read();
    }
    if (!snapshot) throw new Error(`could not read sample trip ${workflowId}; see ${path.join(config.dataDir, 'logs', 'worker.log')}`);
    log(`sample trip ${workflowId}: ${snapshot.view.status}`);
    log(`  see it in the Web UI: ${runUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId, snapshot.runId)}`);
  } finally {
    await client.connection.close();
  }
}

let children: ChildProcesses | undefined;
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping every process this launcher started…');
  await children?.stopAll();
  process.exit(code);
}

async function main(): Promise<void> {
  const config = loadConfig();
  children = new ChildProcesses(config.dataDir);
  await children.reapOrphans(log);
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  const started: Child[] = [];
  if (config.temporal.startDevServer) {
    const cli = temporalCliPath();
    started.push(children.start({ name: 'temporal', command: cli, args: temporalServerArgs(config) }));
    log(`Temporal dev server starting on ${config.temporal.address} (state in ${path.join(config.dataDir, 'temporal.db')})`);
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
    tsx('services', 'src/workers/services.ts'),
    tsx('notifications', 'src/workers/notifications.ts'),
    tsx('api', 'src/api/server.ts'),
    tsx('relay', 'src/workers/relay.ts'),
    tsx('worker', 'src/workers/worker.ts'),
  ]) {
    if (child) started.push(child);
  }
  for (const name of ['flight', 'hotel', 'car', 'payment'] as const) {
    const url = `${config.services[name].url}/healthz`;
    await waitFor(`${name} service`, async () => (await fetch(url)).ok, 60_000, started);
  }
  log(`services up: ${(['flight', 'hotel', 'car', 'payment'] as const).map((n) => `${n} ${config.services[n].url}`).join(', ')}`);
  log(`logs of every process: ${path.join(config.dataDir, 'logs')}`);

  for (const child of started) {
    void child.exited.then((code) => {
      if (!stopping) {
        log(`${child.spec.name} exited unexpectedly (${code}); see ${child.logPath}`);
        void stop(1);
      }
    });
  }
  await bookSampleTrip(config);
  log(`Temporal Web UI: ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
  log('running; press Ctrl-C to stop everything');
}

main().catch(async (err) => {
  console.error(err);
  await stop(1);
});
