/**
 * `npm start` as a user runs it: the whole stack comes up and books the sample trip; a kill -9
 * of the launcher leaves its children, which the next start ends by pid while the earlier runs
 * survive in Temporal's SQLite file; Ctrl-C stops every process it started. On PostgreSQL with
 * prepared transactions it runs the two-phase-commit coordinator too, and a 2pc sample confirms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envSchema } from '../../src/config';
import { startPrivatePostgres } from '../../src/testkit/private-postgres';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { freePort } from '../../src/testkit/stack';

const ROOT = path.join(__dirname, '..', '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-launcher-'));
let env: NodeJS.ProcessEnv;
const launched: ChildProcess[] = [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const childPids = (): number[] =>
  fs.existsSync(path.join(dataDir, 'pids'))
    ? fs
        .readdirSync(path.join(dataDir, 'pids'))
        .map((f) => Number(fs.readFileSync(path.join(dataDir, 'pids', f), 'utf8').split('\n')[0]))
    : [];

/** Starts the launcher and resolves with its output once it says it is running. */
function launch(extraEnv: NodeJS.ProcessEnv = {}) {
  const { proc, ready } = spawnUntil(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/processes/launcher.ts')],
    {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      ready: 'press Ctrl-C',
      timeoutMs: 150_000,
      what: 'launcher',
    },
  );
  launched.push(proc);
  return ready;
}

beforeAll(async () => {
  env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', TEMPORAL_DEV_SERVER: 'yes' };
  for (const key of Object.keys(envSchema.shape)) if (key.endsWith('_PORT')) env[key] = String(await freePort());
  env.TEMPORAL_ADDRESS = `127.0.0.1:${await freePort()}`;
  delete env.DATABASE_URL;
  delete env.NATS_URL;
  delete env.FAULTS;
});

afterAll(async () => {
  for (const proc of launched) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  for (const pid of childPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('runs the stack, survives a kill -9 of the launcher, and stops everything on Ctrl-C', async () => {
  const first = await launch();
  expect(first.output()).toMatch(/sample trip (trip-sample-\S+): CONFIRMED/);
  // SQLite cannot prepare transactions: the 2pc flavour is off, and the launcher says why.
  expect(first.output()).toMatch(/two-phase commit \(--flavor 2pc\) is off: the services run on SQLite/);
  const firstTrip = /sample trip (trip-sample-\S+): CONFIRMED/.exec(first.output())?.[1];
  const orphans = childPids();
  expect(orphans.length).toBeGreaterThanOrEqual(3);
  // Payloads are encrypted with a dev key kept in DATA_DIR; the Web UI decodes through the API.
  expect(fs.existsSync(path.join(dataDir, 'dev-payload-keys'))).toBe(true);
  const settings = (await (await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/settings`)).json()) as {
    Codec?: { Endpoint?: string };
  };
  expect(settings.Codec?.Endpoint).toBe(`http://127.0.0.1:${env.API_PORT}/codec`);

  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  expect(orphans.every(alive)).toBe(true);

  // The sample trip ids are made from the time to the second.
  await new Promise((r) => setTimeout(r, 1100));
  const second = await launch();
  expect(second.output()).toMatch(/left by an earlier run/);
  expect(orphans.some(alive)).toBe(false);
  expect(second.output()).toMatch(/sample trip trip-sample-\S+: CONFIRMED/);

  // The run booked before the kill -9 is still in Temporal's SQLite file.
  const status = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/client/cli.ts'), 'status', firstTrip as string, '--json'],
    { cwd: ROOT, env },
  );
  let out = '';
  status.stdout.on('data', (d) => (out += d));
  expect(await new Promise((r) => status.once('exit', r))).toBe(0);
  expect(JSON.parse(out)).toMatchObject({ workflowId: firstTrip, status: 'CONFIRMED' });

  const children = childPids();
  second.proc.kill('SIGINT');
  expect(await new Promise((r) => second.proc.once('exit', r))).toBe(0);
  expect(children.some(alive)).toBe(false);
  expect(fs.readdirSync(path.join(dataDir, 'pids'))).toEqual([]);
  // Two whole-stack starts, each waited for on its "press Ctrl-C" line for up to 150 s: the test
  // may take as long as both, which jest's 120 s default cut short on a loaded machine.
}, 400_000);

it('on PostgreSQL with prepared transactions, also runs the 2PC coordinator: a 2pc sample trip confirms', async () => {
  const cluster = await startPrivatePostgres();
  try {
    const databaseUrl = await cluster.createDatabase('launcher');
    const run = await launch({ DATABASE_URL: databaseUrl });
    expect(run.output()).toMatch(/2pc sample trip trip-sample-2pc-\S+: CONFIRMED/);
    expect(run.output()).not.toMatch(/two-phase commit \(--flavor 2pc\) is off/);
    const coordinator = (await (await fetch(`http://127.0.0.1:${env.TWOPHASE_PORT}/healthz`)).json()) as {
      service?: string;
    };
    expect(coordinator.service).toBe('twophase-coordinator');
    run.proc.kill('SIGINT');
    expect(await new Promise((r) => run.proc.once('exit', r))).toBe(0);
  } finally {
    cluster.stop();
  }
}, 300_000);
