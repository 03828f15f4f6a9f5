/**
 * `npm run chaos`, short and seeded: the real system under kills, lost replies and partitions
 * ends with no violation, and a saga broken on purpose (compensations registered after their
 * step) is caught by the same auditor — so a clean report means something.
 */
import { runChaos, type ChaosOptions } from '../../src/testkit/chaos/run-chaos';

const base: ChaosOptions = {
  trips: 16,
  durationMs: 20_000,
  seed: 20261129,
  postgres: false,
  serviceFaults: 'lost=0.15,error=0.05,delay=0-100',
  workers: 2,
  concurrency: 16,
  settleMs: 180_000,
  network: true,
  natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
};

describe('npm run chaos (short, seeded)', () => {
  it('keeps every promise while processes are killed and replies are lost', async () => {
    const report = await runChaos(base);
    expect(report.violations).toEqual([]);
    expect(report.trips).toBe(16);
    // Every trip was accepted and ended; faults of several kinds really happened.
    expect(Object.keys(report.byStatus).sort()).not.toContain('NOT_STARTED');
    const kinds = Object.keys(report.faults);
    expect(kinds).toEqual(expect.arrayContaining(['kill:temporal', 'kill:worker-1', 'kill:relay', 'kill:payment']));
    // Every outcome was announced and every announcement applied (invariant 4 is in the violations).
    expect(report.events).toBeGreaterThanOrEqual(16);
    expect(report.emails).toBeGreaterThan(0);
  }, 900_000);

  it('keeps every promise with the services, API and outbox on PostgreSQL and NATS (--postgres)', async () => {
    const report = await runChaos({ ...base, seed: 29112026, trips: 10, durationMs: 15_000, postgres: true });
    expect(report.backend).toBe('postgres');
    expect(report.violations).toEqual([]);
    expect(report.trips).toBe(10);
    expect(report.processCrashes).toEqual([]);
    expect(report.emails).toBeGreaterThan(0);
  }, 900_000);

  it('reports violations when the saga registers compensations after their step', async () => {
    const report = await runChaos({
      ...base,
      seed: 7,
      trips: 12,
      breakMode: 'compensation-after-step',
      kinds: ['cancel-mid-saga'],
    });
    expect(report.broken).toBe('compensation-after-step');
    // A user cancel while a step is in flight leaves that step's reservation or charge behind.
    expect(report.violations.filter((v) => v.includes('invariant 1')).length).toBeGreaterThan(0);
  }, 900_000);
});
