/**
 * `npm run bench` at a small N: it starts its own stack, prints one JSON line per concurrency
 * with the saga, the floor and their ratio, and audits every trip (0 violations). Never a timing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { duplicateKeyViolations } from '../../src/testkit/stack';

const ROOT = path.join(__dirname, '..', '..');

const phaseShape = {
  trips: 10,
  sagasPerSec: expect.any(Number),
  p50Ms: expect.any(Number),
  p95Ms: expect.any(Number),
  p99Ms: expect.any(Number),
  cpuSecondsPerSaga: {
    temporalServer: expect.any(Number),
    services: expect.any(Number),
    workerAndDriver: expect.any(Number),
  },
  eagerlyStarted: expect.any(Number),
};

it('prints one audited JSON line per concurrency with the saga, the floor and their ratio', () => {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench', 'saga.ts'), '--concurrency', '1,2', '--trips', '10'],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, DATABASE_URL: '' } },
  );
  expect(run.stderr).not.toMatch(/violation:/);
  expect(run.status).toBe(0);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l.concurrency)).toEqual([1, 2]);
  for (const line of lines) {
    expect(line).toEqual({
      bench: 'saga',
      concurrency: expect.any(Number),
      trips: 10,
      declined: 1,
      services: 'sqlite',
      devServerPragmas: 'wal,synchronous=normal',
      eagerStart: true,
      saga: phaseShape,
      floor: phaseShape,
      sagaToFloor: expect.any(Number),
      audited: 10,
      violations: 0,
    });
    expect((line.saga as { sagasPerSec: number }).sagasPerSec).toBeGreaterThan(0);
  }
}, 320_000);

it('flags a row made by another key, or two rows, as a violation of invariant 2', () => {
  const row = (idempotencyKey: string, status: string) => ({ id: 'x', tripId: 't', idempotencyKey, status });
  const clean = { flight: [row('t:flight', 'ACTIVE')], hotel: [], car: [], payment: [row('t:payment', 'REFUNDED')] };
  expect(duplicateKeyViolations('t', clean)).toEqual([]);
  expect(duplicateKeyViolations('t', { ...clean, hotel: [row('t:car', 'ACTIVE')] })).toEqual([
    'hotel: a row made by key t:car',
  ]);
  expect(duplicateKeyViolations('t', { ...clean, car: [row('t:car', 'ACTIVE'), row('t:car', 'CANCELLED')] })).toEqual([
    'car: 2 rows for key t:car',
  ]);
});
