/**
 * Every process of the system on its own, for a chaos run: a Temporal dev server on its SQLite
 * file, the four booking services (each one process, in their own network namespace when one is
 * given), two or more workers, the outbox relay, notifications and the trip API. Each can be
 * SIGKILLed and started again with the same settings; logs go to `<dir>/logs/<name>.log`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName } from '../../config';
import { ChildProcesses, type Child } from '../../dev/child-processes';
import { PROJECT_ROOT } from '../../dev/project-root';
import { temporalCliPath } from '../../dev/temporal-binaries';
import { DEV_SERVER_SEARCH_ATTRIBUTE_ARGS } from '../../shared/search-attributes';
import { freePort } from '../stack';
import type { ServiceNetwork } from './netns';

export interface ClusterOptions {
  dir: string;
  workers: number;
  /** FAULTS for the booking services while faults are on. */
  serviceFaults?: string;
  databaseUrl?: string;
  /** DATABASE_URL as seen from inside the service network (a forwarder to PostgreSQL). */
  serviceDatabaseUrl?: string;
  natsUrl?: string;
  /** NATS_URL as seen from inside the service network (a forwarder to NATS). */
  serviceNatsUrl?: string;
  network?: ServiceNetwork;
  /** The worker entry point (the broken-saga worker for `--break`). */
  workerEntry?: string;
  extraEnv?: Record<string, string>;
}

interface ProcessSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Resolves once the process serves; rejects if it does not within the bound. */
  ready: () => Promise<boolean>;
}

const tsxArgs = (entry: string, ...args: string[]) => ['--import', 'tsx', path.join(PROJECT_ROOT, entry), ...args];

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

export class ChaosCluster {
  readonly apiToken = 'chaos-run-token-0123456789';
  readonly principal = 'chaos';
  readonly env: Record<string, string> = {};
  private readonly children: ChildProcesses;
  private readonly running = new Map<string, Child>();
  private readonly specs = new Map<string, ProcessSpec>();
  private serviceFaultsOn = true;

  private constructor(private readonly options: ClusterOptions) {
    this.children = new ChildProcesses(options.dir);
  }

  static async create(options: ClusterOptions): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(options);
    await cluster.plan();
    return cluster;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.env.API_PORT}`;
  }

  serviceUrl(name: BookingServiceName): string {
    return this.env[`${name.toUpperCase()}_URL`] as string;
  }

  logPath(name: string): string {
    return path.join(this.options.dir, 'logs', `${name}.log`);
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  private async plan(): Promise<void> {
    const o = this.options;
    const host = '127.0.0.1';
    const serviceHost = o.network?.serviceAddress ?? host;
    const e = this.env;
    Object.assign(e, {
      DATA_DIR: path.join(o.dir, 'data'),
      HOST: host,
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: `${host}:${await freePort()}`,
      API_PORT: String(await freePort()),
      NOTIFICATIONS_PORT: String(await freePort()),
      API_TOKENS: `${this.apiToken}:${this.principal}`,
      RELAY_METRICS_PORT: '0',
      WORKER_METRICS_PORT: '0',
      OUTBOX_POLL_INTERVAL_MS: '100',
      // A stopping worker gives in-flight activities a moment, not the default 30 s.
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
      ...(o.natsUrl ? { NATS_URL: o.natsUrl } : {}),
      ...o.extraEnv,
    });
    for (const name of BOOKING_SERVICES) {
      const port = await freePort();
      e[`${name.toUpperCase()}_PORT`] = String(port);
      e[`${name.toUpperCase()}_URL`] = `http://${serviceHost}:${port}`;
    }
    fs.mkdirSync(e.DATA_DIR as string, { recursive: true });
    const uiPort = await freePort();

    const [tHost, tPort] = (e.TEMPORAL_ADDRESS as string).split(':') as [string, string];
    this.specs.set('temporal', {
      command: temporalCliPath(loadConfig()),
      args: [
        'server',
        'start-dev',
        '--ip',
        tHost,
        '--port',
        tPort,
        '--ui-port',
        String(uiPort),
        '--headless',
        '--db-filename',
        path.join(o.dir, 'temporal.db'),
        '--log-level',
        'error',
        ...DEV_SERVER_SEARCH_ATTRIBUTE_ARGS,
      ],
      env: {},
      ready: async () => {
        const connection = await Connection.connect({ address: e.TEMPORAL_ADDRESS, connectTimeout: '1 second' });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      },
    });
    for (const name of BOOKING_SERVICES) {
      const prefix = o.network?.exec ?? [];
      const [command, ...rest] = [...prefix, process.execPath, ...tsxArgs('src/processes/services.ts', name)];
      this.specs.set(name, {
        command: command as string,
        args: rest,
        env: {
          HOST: serviceHost,
          ...(o.serviceDatabaseUrl ? { DATABASE_URL: o.serviceDatabaseUrl } : {}),
          ...(o.serviceNatsUrl ? { NATS_URL: o.serviceNatsUrl } : {}),
        },
        ready: () => httpOk(`${this.serviceUrl(name)}/healthz`),
      });
    }
    this.specs.set('notifications', {
      command: process.execPath,
      args: tsxArgs('src/processes/notifications.ts'),
      env: {},
      ready: () => httpOk(`http://${host}:${e.NOTIFICATIONS_PORT}/healthz`),
    });
    this.specs.set('api', {
      command: process.execPath,
      args: tsxArgs('src/processes/api.ts'),
      env: {},
      ready: () => httpOk(`${this.apiUrl}/healthz`),
    });
    this.specs.set('relay', {
      command: process.execPath,
      args: tsxArgs('src/processes/relay.ts'),
      env: {},
      // The relay serves nothing once metrics are off: started is ready.
      ready: async () => true,
    });
    for (let i = 1; i <= o.workers; i++) {
      const healthPort = await freePort();
      this.specs.set(`worker-${i}`, {
        command: process.execPath,
        args: tsxArgs(o.workerEntry ?? 'src/workers/worker.ts'),
        env: { WORKER_HEALTH_PORT: String(healthPort) },
        ready: () => httpOk(`http://${host}:${healthPort}/healthz`),
      });
    }
  }

  /** Starts every process in dependency order and waits until each serves. */
  async startAll(): Promise<void> {
    for (const name of ['temporal', ...BOOKING_SERVICES, 'notifications', 'api', 'relay']) await this.start(name);
    for (const name of this.names().filter((n) => n.startsWith('worker-'))) await this.start(name);
  }

  async start(name: string, timeoutMs = 120_000): Promise<void> {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no process named ${name}`);
    const isService = (BOOKING_SERVICES as readonly string[]).includes(name);
    const faults =
      isService && this.serviceFaultsOn && this.options.serviceFaults ? { FAULTS: this.options.serviceFaults } : {};
    const child = this.children.start({
      name,
      command: spec.command,
      args: spec.args,
      env: { ...this.env, ...spec.env, ...faults },
    });
    this.running.set(name, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.process.exitCode !== null || child.process.signalCode !== null) {
        throw new Error(
          `${name} exited (${child.process.exitCode ?? child.process.signalCode}) while starting; see ${child.logPath}`,
        );
      }
      if (await spec.ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${name} not ready after ${timeoutMs} ms; see ${child.logPath}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILL, as a crash: nothing is flushed, nothing is closed. */
  async kill(name: string): Promise<void> {
    const child = this.running.get(name);
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
    child.process.kill('SIGKILL');
    await child.exited;
  }

  isRunning(name: string): boolean {
    const child = this.running.get(name);
    return !!child && child.process.exitCode === null && child.process.signalCode === null;
  }

  /** Restarts the booking services without FAULTS (the faults are over). */
  async calmServices(): Promise<void> {
    this.serviceFaultsOn = false;
    for (const name of BOOKING_SERVICES) {
      await this.kill(name);
      await this.start(name);
    }
  }

  /** Every process that died on its own (not by `kill`) while the run went on. */
  crashed(): string[] {
    return [...this.running.entries()]
      .filter(([, c]) => c.process.exitCode !== null && c.process.signalCode !== 'SIGKILL')
      .map(([n]) => n);
  }

  async stopAll(): Promise<void> {
    await this.children.stopAll(5_000);
  }
}
