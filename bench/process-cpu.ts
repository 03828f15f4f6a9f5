/**
 * CPU seconds per process and for the whole machine, from /proc (Linux): what a benchmark phase
 * cost each process, and whether the machine's cores were already saturated during it.
 */
import fs from 'node:fs';
import os from 'node:os';

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in seconds; 0 once it is gone. */
export function pidCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pids whose command name (`/proc/<pid>/comm`) is `name`. */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Busy CPU seconds of the whole machine so far (all cores, everything but idle and iowait). */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND
  );
}

/** CPU seconds per pid of named groups, and of the whole machine, at one moment. */
export interface CpuSnapshot {
  machine: number;
  groups: Record<string, Map<number, number>>;
}

export function cpuSnapshot(groups: Record<string, number[]>): CpuSnapshot {
  const snap: CpuSnapshot = { machine: machineBusySeconds(), groups: {} };
  for (const [group, pids] of Object.entries(groups))
    snap.groups[group] = new Map(pids.map((p) => [p, pidCpuSeconds(p)]));
  return snap;
}

/**
 * CPU seconds each group used between two snapshots (a pid born meanwhile counts whole; one gone
 * by `after` is not counted: take `after` while the processes run), and the machine's busy cores.
 */
export function cpuSince(before: CpuSnapshot, after: CpuSnapshot, wallSeconds: number) {
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const seconds: Record<string, number> = {};
  for (const [group, pids] of Object.entries(after.groups)) {
    let used = 0;
    for (const [pid, s] of pids) used += s - (before.groups[group]?.get(pid) ?? 0);
    seconds[group] = r2(used);
  }
  const machine = after.machine - before.machine;
  return {
    seconds: { ...seconds, machine: r2(machine) },
    machineCoresBusy: r2(machine / wallSeconds),
    cores: os.cpus().length,
    loadAverage: os.loadavg().map(r2),
  };
}
