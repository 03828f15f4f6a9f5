/** The human-readable side of `npm run compare`: its JSON lines as two Markdown tables (printed on stderr). */
import type { PhaseReport } from './phase';
import type { KillReport } from './kill';
import type { OutsiderReport } from './outsider';
import type { FlavorName } from './flavor';

export interface FlavorReport {
  flavor: FlavorName;
  phases: PhaseReport[];
  outsider: OutsiderReport;
  kill: KillReport;
  audited: number;
  violations: number;
}

const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const header = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];

const messages = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ') || '–';

const lockCell = (p: PhaseReport) => {
  const s = p.rowLockMs.prepared ?? p.rowLockMs.local;
  if (!s) return 'null (no transaction seen)';
  return `${s.p99} (${p.rowLockMs.prepared ? 'prepare → commit' : 'local tx'}, max ${s.max}, n=${s.count})`;
};

export function renderTables(reports: FlavorReport[]): string {
  const lines = [
    ...header([
      'flavour',
      'c',
      'trips',
      'sagas/s',
      'p50 ms',
      'p99 ms',
      'HTTP to services /trip',
      'other round trips /trip',
      'DB xacts /trip (services + trip state + other)',
      'rows locked p99 ms',
    ]),
  ];
  for (const r of reports) {
    for (const p of r.phases) {
      const by = p.perTrip.dbTransactionsBy;
      lines.push(
        row([
          r.flavor,
          p.concurrency,
          p.trips,
          p.sagasPerSec,
          p.p50Ms,
          p.p99Ms,
          p.perTrip.httpToServices,
          messages(p.perTrip.messages),
          `${p.perTrip.dbTransactions} (${by.services} + ${by.tripState} + ${by.other})`,
          lockCell(p),
        ]),
      );
    }
  }
  lines.push(
    '',
    ...header([
      'flavour',
      'partial trip seen before the decision',
      'SIGKILL of',
      'while down: prepared xacts / locked rows',
      'same flight booked meanwhile',
      'restart: ready / trip ended after restart ms',
      'outcome',
      'audit',
    ]),
  );
  for (const r of reports) {
    const o = r.outsider;
    const k = r.kill;
    const c = k.conflictingBooking;
    lines.push(
      row([
        r.flavor,
        `${o.partialBeforeDecision > 0 ? 'yes' : 'no'} (${o.partialBeforeDecision}/${o.snapshots} snapshots${o.partialAfterDecision ? `; ${o.partialAfterDecision} in phase 2` : ''})`,
        k.victim.split(',')[0] as string,
        `${k.whileDown.preparedTransactions} / ${k.whileDown.lockedRows}`,
        c.blocked
          ? `blocked > ${c.timeoutMs} ms, answered ${c.httpStatus ?? 'never'} after ${c.answeredAfterMs ?? '–'} ms`
          : `not blocked: ${c.httpStatus} in ${c.answeredAfterMs} ms`,
        `${k.restart.readyMs} / ${k.restart.finishedAfterRestartMs}`,
        k.outcome,
        `${r.violations} violations in ${r.audited} trips`,
      ]),
    );
  }
  return lines.join('\n');
}
