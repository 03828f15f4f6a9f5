/**
 * Runs the project's compose services as local child processes, "as the compose file wires
 * them": each gets the environment docker-compose.yml gives it, with compose host names and
 * container ports rewritten to 127.0.0.1 and free ports, and runs the source entry behind its
 * `node dist/…js` command (`node --import tsx src/….ts`, one process per pid, no wrapper).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_DIR, serviceEnv, sourceEntry, type ComposeService } from './compose-file';
import { freePort } from '../../src/testkit/stack';

export interface LocalProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  env: Record<string, string>;
  logPath: string;
  exited: Promise<number | null>;
  log(): string;
}

/** compose `host:port` → local `127.0.0.1:port`, filled in as ports are allocated. */
export class PortMap {
  private readonly map = new Map<string, string>();
  set(composeAddress: string, local: string): void {
    this.map.set(composeAddress, local);
  }
  get(composeAddress: string): string | undefined {
    return this.map.get(composeAddress);
  }
  /** A free local port for `service:containerPort` (allocated once, or fresh when `fresh`). */
  async allocate(service: string, containerPort: string, fresh = false): Promise<number> {
    const key = `${service}:${containerPort}`;
    const known = this.map.get(key);
    if (known && !fresh) return Number(known.split(':')[1]);
    const port = await freePort();
    if (!known) this.map.set(key, `127.0.0.1:${port}`);
    return port;
  }
  /** Rewrites every `compose-host:port` in a value (URLs, addresses). */
  rewrite(value: string): string {
    return value.replace(
      /\b([a-z][a-z0-9-]*):(\d{2,5})\b/g,
      (m, host: string, port: string) => this.map.get(`${host}:${port}`) ?? m,
    );
  }
}

/**
 * The local environment of one compose service: compose env with addresses rewritten, its own
 * `*_PORT` variables on local ports (fresh ones for replicas after the first), HOST on loopback.
 */
export async function localEnv(
  name: string,
  service: ComposeService,
  ports: PortMap,
  options: { replica?: number; overrides?: Record<string, string> } = {},
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(serviceEnv(service))) {
    if (/_PORT$/.test(key)) env[key] = String(await ports.allocate(name, value, (options.replica ?? 0) > 0));
    else env[key] = ports.rewrite(value);
  }
  if (env.HOST !== undefined) env.HOST = '127.0.0.1';
  return { ...env, ...options.overrides };
}

/**
 * Starts a compose service; stdout and stderr go to a log file in `logDir`. By default it runs the
 * source entry behind the command with tsx; with `imageDir` (a directory laid out like the runtime
 * image: package.json, node_modules, dist/) it runs the compose command verbatim there, in production mode.
 */
export function startLocalProcess(
  name: string,
  service: ComposeService,
  env: Record<string, string>,
  logDir: string,
  options: { imageDir?: string } = {},
): LocalProcess {
  const { script, args } = sourceEntry(service);
  const argv = options.imageDir ? (service.command as string[]).slice(1) : ['--import', 'tsx', script, ...args];
  const logPath = path.join(logDir, `${name}.log`);
  const fd = fs.openSync(logPath, 'a');
  // A clean environment: only what compose gives the container, plus what node itself needs.
  const base = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: options.imageDir ? 'production' : 'test',
  };
  const child = spawn(process.execPath, argv, {
    cwd: options.imageDir ?? PROJECT_DIR,
    env: { ...base, ...env },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, pid: child.pid as number, env, logPath, exited, log: () => fs.readFileSync(logPath, 'utf8') };
}

/** Polls `url` until it answers 2xx; fails early (with the log tail) if the process exits. */
export async function waitHealthy(proc: LocalProcess, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`${proc.name} exited ${proc.child.exitCode}:\n${proc.log().slice(-3000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not healthy at ${url}:\n${proc.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** SIGTERM by pid, SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
export async function stopLocalProcess(proc: LocalProcess, graceMs = 15_000): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
  process.kill(proc.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) process.kill(proc.pid, 'SIGKILL');
  }, graceMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}
