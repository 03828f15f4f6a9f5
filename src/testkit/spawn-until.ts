/** Starts a process and resolves once its stdout says `ready`; rejects (with its output) on exit or timeout. */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

export interface Spawned {
  proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export function spawnUntil(
  command: string,
  args: string[],
  options: SpawnOptions & { ready: string; timeoutMs: number; what: string },
): { proc: ChildProcess; ready: Promise<Spawned> } {
  const { ready, timeoutMs, what, ...spawnOptions } = options;
  const proc = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const started = new Promise<Spawned>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    proc.stdout?.on('data', () => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve({ proc, output: () => out });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}:\n${out}`));
    });
  });
  return { proc, ready: started };
}
