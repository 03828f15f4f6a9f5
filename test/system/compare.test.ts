/**
 * `npm run compare` at a tiny N: it starts every flavour's stack itself, prints one audited JSON
 * line per flavour, and shows the differences the flavours are chosen for — a saga lets an outsider
 * see a partial trip and locks nothing while its coordinator is dead; 2PC shows nothing before its
 * decision and blocks another booking of the same flight until a coordinator recovers. Never a timing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

interface FlavorLine {
  compare: string;
  flavor: string;
  phases: Array<{
    concurrency: number;
    trips: number;
    sagasPerSec: number;
    perTrip: {
      httpToServices: number;
      messages: Record<string, number>;
      dbTransactions: number;
      dbTransactionsBy: { services: number; tripState: number; other: number };
    };
    rowLockMs: { local: { count: number } | null; prepared: { count: number } | null };
  }>;
  outsider: { snapshots: number; partialBeforeDecision: number };
  kill: {
    outcome: string;
    expected: string;
    atKill: { status: string | null };
    whileDown: { preparedTransactions: number; lockedRows: number; lockWaits: number };
    conflictingBooking: { blocked: boolean; httpStatus: number | null };
    violations: string[];
  };
  audited: number;
  violations: number;
}

let lines: FlavorLine[];
let stderr: string;

beforeAll(() => {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench', 'compare.ts'), '--trips', '4', '--concurrency', '1', '--observe', '2'],
    { cwd: ROOT, encoding: 'utf8', timeout: 280_000 },
  );
  stderr = run.stderr;
  if (run.status !== 0) throw new Error(`npm run compare exited ${run.status ?? run.signal}:\n${run.stderr}`);
  lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FlavorLine);
}, 300_000);

const line = (flavor: string) => lines.find((l) => l.flavor === flavor) as FlavorLine;

it('reports all three flavours, every trip audited without a violation', () => {
  expect(lines.map((l) => [l.compare, l.flavor])).toEqual([
    ['flavor', 'orchestrated'],
    ['flavor', 'choreographed'],
    ['flavor', '2pc'],
  ]);
  expect(stderr).not.toMatch(/violation:/);
  for (const l of lines) {
    expect(l.violations).toBe(0);
    // 2 warm-up + 4 measured + 3 watched by the outsider + the killed trip.
    expect(l.audited).toBe(10);
    expect(l.kill.violations).toEqual([]);
    expect(l.kill.outcome).toBe(l.kill.expected);
  }
  expect(stderr).toMatch(/\| flavour \| c \| trips \| sagas\/s/);
});

it('counts the round trips and transactions of each flavour where they happen', () => {
  for (const l of lines) {
    expect(l.phases).toHaveLength(1);
    const [phase] = l.phases;
    expect(phase).toMatchObject({ concurrency: 1, trips: 4, sagasPerSec: expect.any(Number) });
    expect(phase?.perTrip.dbTransactions).toBeGreaterThan(0);
    expect(phase?.perTrip.dbTransactionsBy.services).toBeGreaterThan(0);
  }
  // Four forward calls per confirmed trip; 2PC prepares and commits each of the four.
  expect(line('orchestrated').phases[0]?.perTrip.httpToServices).toBe(4);
  expect(line('orchestrated').phases[0]?.perTrip.messages.temporalRpcs).toBeGreaterThan(0);
  expect(line('choreographed').phases[0]?.perTrip.httpToServices).toBe(0);
  expect(line('choreographed').phases[0]?.perTrip.messages.natsPublished).toBeGreaterThan(0);
  expect(line('2pc').phases[0]?.perTrip.httpToServices).toBe(8);
  // Rows locked: sagas only inside local transactions, 2PC from prepare to commit.
  expect(line('orchestrated').phases[0]?.rowLockMs.prepared).toBeNull();
  expect(line('choreographed').phases[0]?.rowLockMs.prepared).toBeNull();
  expect(line('2pc').phases[0]?.rowLockMs.prepared?.count).toBe(16);
});

it('shows an outsider partial trips under the sagas and none before the decision under 2PC', () => {
  expect(line('orchestrated').outsider.partialBeforeDecision).toBeGreaterThan(0);
  expect(line('choreographed').outsider.partialBeforeDecision).toBeGreaterThan(0);
  expect(line('2pc').outsider.snapshots).toBeGreaterThan(0);
  expect(line('2pc').outsider.partialBeforeDecision).toBe(0);
});

it('blocks a booking of the same flight only while a 2PC coordinator is dead', () => {
  for (const flavor of ['orchestrated', 'choreographed']) {
    const { kill } = line(flavor);
    expect(kill.atKill.status).not.toMatch(/CONFIRMED|COMPENSATED/);
    expect(kill.whileDown).toEqual({ preparedTransactions: 0, lockedRows: 0, lockWaits: 0 });
    expect(kill.conflictingBooking).toMatchObject({ blocked: false, httpStatus: 201 });
  }
  const { kill } = line('2pc');
  expect(kill.whileDown.preparedTransactions).toBe(4);
  expect(kill.whileDown.lockedRows).toBeGreaterThan(0);
  expect(kill.conflictingBooking).toMatchObject({ blocked: true, httpStatus: 201 });
});
