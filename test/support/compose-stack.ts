/**
 * docker-compose.yml's project services as local processes against real PostgreSQL, NATS and a
 * Temporal dev server: the compose `temporal-setup` script is run first (same script, same env),
 * then every project service (× its replicas) is started and waited for on its health check.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { loadConfig } from '../../src/config';
import { deleteStreamQuietly } from '../../src/testkit/nats-stream-cleanup';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { devServerEnv } from '../../src/testkit/temporal-env';
import { PROJECT_DIR, projectServices, readComposeFile, serviceEnv, type ComposeFile } from './compose-file';
import {
  localEnv,
  PortMap,
  startLocalProcess,
  stopLocalProcess,
  waitHealthy,
  type LocalProcess,
} from './compose-processes';

export interface ComposeStackOptions {
  temporalAddress: string;
  databaseUrl: string;
  natsUrl: string;
  logDir: string;
  /** Run the compiled compose commands in this image-like directory instead of the sources. */
  imageDir?: string;
  /** Extra variables for every process (isolation of shared servers: NATS stream names…). */
  overrides?: Record<string, string>;
  /** Replicas to run per service; defaults to the compose file's `deploy.replicas`. */
  replicas?: (name: string, composed: number) => number;
}

export interface ComposeStack {
  compose: ComposeFile;
  ports: PortMap;
  procs: LocalProcess[];
  byName(name: string): LocalProcess;
  /** Starts one more replica of a service (fresh ports), with extra variables. */
  start(name: string, replica: number, overrides?: Record<string, string>): Promise<LocalProcess>;
  /** The URL compose's health check probes, on the process's local port. */
  healthUrl(name: string, proc: LocalProcess): string;
  stop(): Promise<void>;
}

/** Runs the compose file's `temporal-setup` one-shot job (namespace + search attributes). */
export function runTemporalSetup(compose: ComposeFile, ports: PortMap): void {
  const setup = compose.services['temporal-setup'];
  if (!setup) throw new Error('docker-compose.yml has no temporal-setup service');
  const env = Object.fromEntries(Object.entries(serviceEnv(setup)).map(([k, v]) => [k, ports.rewrite(v)]));
  const ran = spawnSync('sh', [path.join(PROJECT_DIR, 'deploy', 'temporal', 'setup-namespace.sh')], {
    env: { PATH: `${path.dirname(temporalCliPath(loadConfig()))}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (ran.status !== 0) throw new Error(`setup-namespace.sh failed (${ran.status}):\n${ran.stdout}\n${ran.stderr}`);
}

export async function startComposeStack(options: ComposeStackOptions): Promise<ComposeStack> {
  const compose = readComposeFile();
  const ports = new PortMap();
  ports.set('temporal:7233', options.temporalAddress);
  ports.set('nats:4222', options.natsUrl.replace(/^nats:\/\//, ''));
  const procs: LocalProcess[] = [];

  const start = async (name: string, replica: number, overrides: Record<string, string> = {}) => {
    const service = compose.services[name];
    if (!service) throw new Error(`no service ${name}`);
    const env = await localEnv(name, service, ports, {
      replica,
      overrides: { DATABASE_URL: options.databaseUrl, ...options.overrides, ...overrides },
    });
    const label = replica > 0 ? `${name}-${replica + 1}` : name;
    const proc = startLocalProcess(label, service, env, options.logDir, { imageDir: options.imageDir });
    procs.push(proc);
    return proc;
  };
  const healthUrl = (name: string, proc: LocalProcess) => {
    const key = Object.keys(serviceEnv(compose.services[name] ?? {})).find((k) => /_PORT$/.test(k));
    if (!key) throw new Error(`${name} has no port`);
    return `http://127.0.0.1:${proc.env[key]}/${name === 'api' ? 'readyz' : 'healthz'}`;
  };
  const stack: ComposeStack = {
    compose,
    ports,
    procs,
    byName: (name) => {
      const found = procs.find((p) => p.name === name);
      if (!found) throw new Error(`no process ${name}`);
      return found;
    },
    start,
    healthUrl,
    stop: async () => {
      await Promise.allSettled(procs.map((p) => stopLocalProcess(p)));
    },
  };

  try {
    runTemporalSetup(compose, ports);
    // Every listening port first, so that URLs in any service's environment can be rewritten.
    for (const [name, service] of projectServices(compose)) {
      for (const [key, value] of Object.entries(serviceEnv(service))) {
        if (/_PORT$/.test(key)) await ports.allocate(name, value);
      }
    }
    const healthy: Array<Promise<void>> = [];
    for (const [name, service] of projectServices(compose)) {
      const composed = service.deploy?.replicas ?? 1;
      const count = options.replicas ? options.replicas(name, composed) : composed;
      for (let replica = 0; replica < count; replica++) {
        const proc = await start(name, replica);
        const ready = waitHealthy(proc, healthUrl(name, proc), 150_000);
        ready.catch(() => undefined); // awaited below; this only avoids an early unhandled rejection
        healthy.push(ready);
      }
    }
    await Promise.all(healthy);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** A compose stack of one system test's own, and what it runs on. */
export interface IsolatedComposeStack {
  stack: ComposeStack;
  /** The test's own PostgreSQL database, which every project service uses. */
  databaseUrl: string;
  /** Stops the processes, the Temporal dev server, drops the database and the NATS stream. */
  stop(): Promise<void>;
}

/**
 * `startComposeStack` on servers of the test's own: a Temporal dev server, a PostgreSQL database
 * named after `name`, and a NATS stream, subject prefix and durable of this run's own on the shared
 * NATS server (`TEST_NATS_URL`). Logs go to `options.logDir`, or to a temp dir `stop` removes.
 * A failed start leaves nothing behind.
 */
export async function startIsolatedComposeStack(
  name: string,
  options: Pick<ComposeStackOptions, 'imageDir' | 'replicas'> & { logDir?: string } = {},
): Promise<IsolatedComposeStack> {
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const suffix = randomUUID().replace(/-/g, '').slice(0, 10);
  const overrides = {
    OUTBOX_STREAM: `${name.toUpperCase()}_${suffix}`,
    OUTBOX_SUBJECT_PREFIX: `${name}-${suffix}.events`,
    OUTBOX_DURABLE: `${name}-${suffix}`,
  };
  const logDir = options.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `trip-saga-${name}-`));
  let temporal: TestWorkflowEnvironment | undefined;
  let db: TestDatabase | undefined;
  let stack: ComposeStack | undefined;
  const stop = async () => {
    await stack?.stop();
    await temporal?.teardown();
    await db?.drop();
    await deleteStreamQuietly(natsUrl, overrides.OUTBOX_STREAM);
    if (options.logDir === undefined) fs.rmSync(logDir, { recursive: true, force: true });
  };
  try {
    temporal = await devServerEnv();
    db = await createTestDatabase(name);
    stack = await startComposeStack({
      temporalAddress: temporal.address,
      databaseUrl: db.url,
      natsUrl,
      logDir,
      imageDir: options.imageDir,
      overrides,
      replicas: options.replicas,
    });
    return { stack, databaseUrl: db.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
