/** The relay process: a taken metrics port (a second relay on one host) is a warning, not an exit. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { freePort } from '../../src/testkit/stack';

const ROOT = path.join(__dirname, '..', '..');
const started: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a relay on its own SQLite data and resolves with its output once it says it started. */
function startRelay(metricsPort: number) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-relay-'));
  dirs.push(dataDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    RELAY_METRICS_PORT: String(metricsPort),
    OUTBOX_SOURCES: 'flight',
  };
  delete env.NATS_URL;
  delete env.DATABASE_URL;
  const { proc, ready } = spawnUntil(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/processes/relay.ts')], {
    cwd: ROOT,
    env,
    ready: 'outbox relay started',
    timeoutMs: 60_000,
    what: 'relay',
  });
  started.push(proc);
  return ready;
}

it('runs a second relay without metrics when the port is taken, and serves them from the first', async () => {
  const port = await freePort();
  const first = await startRelay(port);
  expect(first.output()).toContain(`:${port}/metrics`);
  const second = await startRelay(port);
  expect(second.output()).toContain('metrics endpoint not started');
  await new Promise((r) => setTimeout(r, 1000));
  expect(second.proc.exitCode).toBeNull();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('outbox_published_total');
});

it('runs with no metrics endpoint when RELAY_METRICS_PORT=0', async () => {
  const relay = await startRelay(0);
  expect(relay.output()).toMatch(/"metrics":null/);
});
