/**
 * Children of the dev launcher: each writes its output to .data/logs/<name>.log and its pid to
 * .data/pids/<name>.pid, so a launcher killed with -9 can end its orphans on the next start
 * (by pid, and only if the process is still the command we started).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface Child {
  spec: ChildSpec;
  process: ChildProcess;
  logPath: string;
  exited: Promise<number | null>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const cmdlineOf = (pid: number): string => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

export class ChildProcesses {
  private readonly children: Child[] = [];
  private readonly pidDir: string;
  private readonly logDir: string;

  constructor(dataDir: string) {
    this.pidDir = path.join(dataDir, 'pids');
    this.logDir = path.join(dataDir, 'logs');
    fs.mkdirSync(this.pidDir, { recursive: true });
    fs.mkdirSync(this.logDir, { recursive: true });
  }

  /** Ends what an earlier launcher started and left behind (it was killed before it could). */
  async reapOrphans(log: (msg: string) => void): Promise<void> {
    for (const file of fs.readdirSync(this.pidDir).filter((f) => f.endsWith('.pid'))) {
      const [pidText, marker] = fs.readFileSync(path.join(this.pidDir, file), 'utf8').split('\n');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && alive(pid) && marker && cmdlineOf(pid).includes(marker)) {
        log(`ending ${file.replace(/\.pid$/, '')} (pid ${pid}) left by an earlier run`);
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      fs.rmSync(path.join(this.pidDir, file), { force: true });
    }
  }

  start(spec: ChildSpec): Child {
    const logPath = path.join(this.logDir, `${spec.name}.log`);
    const out = fs.openSync(logPath, 'a');
    const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    // The marker lets the next launcher tell our process from an unrelated one that reused the pid.
    const marker = spec.args.find((a) => a.endsWith('.ts')) ?? path.basename(spec.command);
    fs.writeFileSync(path.join(this.pidDir, `${spec.name}.pid`), `${child.pid}\n${marker}\n`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const entry: Child = { spec, process: child, logPath, exited };
    this.children.push(entry);
    return entry;
  }

  /** Stops every child, newest first: SIGTERM, then SIGKILL after the grace period. */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGTERM');
        const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
        await child.exited;
        clearTimeout(timer);
      }
      fs.rmSync(path.join(this.pidDir, `${child.spec.name}.pid`), { force: true });
    }
  }
}
