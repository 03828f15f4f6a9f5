/**
 * The choreographed trip under faults. `lost`: a participant commits (inbox row, business row,
 * outbox event) and "crashes" before the ack, so JetStream delivers the event again; the inbox
 * drops the repeat. A SIGKILL of the hotel service's process mid-trip: what it committed stays,
 * what it had not acked comes back when it restarts. Either way every trip ends consistent
 * (invariant 1 through the audit endpoints) and no key has two side effects.
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { TripRequest } from '../../src/shared/trip';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { startChoreographyStack, type ChoreographyStack } from '../../src/testkit/choreography-stack';

const ROOT = path.join(__dirname, '..', '..');

const WORKLOAD: Array<[TripRequest, string]> = [
  [sampleTrip(), 'CONFIRMED'],
  [
    sampleTrip({ flight: { flightNumber: 'DL300' }, hotel: { hotelId: 'H-SFO-1' }, car: { location: 'SFO' } }),
    'CONFIRMED',
  ],
  [sampleTrip({ flight: { flightNumber: 'SOLDOUT1' } }), 'COMPENSATED'],
  [sampleTrip({ hotel: { hotelId: 'H-FULL' } }), 'COMPENSATED'],
  [sampleTrip({ car: { location: 'NOWHERE' } }), 'COMPENSATED'],
  [sampleTrip({ payment: { token: 'tok_declined' } }), 'COMPENSATED'],
  [sampleTrip({ hotel: { rooms: 2 } }), 'CONFIRMED'],
];

let pg: TestDatabase | undefined;
let stack: ChoreographyStack | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
  }
  child = undefined;
  await stack?.stop();
  await pg?.drop();
  stack = undefined;
  pg = undefined;
});

async function expectConsistent(s: ChoreographyStack, tripIds: string[], expected: string[]): Promise<void> {
  const views = await Promise.all(tripIds.map((id) => s.waitForEnd(id, 90_000)));
  expect(views.map((v) => v.status)).toEqual(expected);
  for (const view of views) {
    const audit = await auditTrip(s.config, view.tripId);
    expect({ trip: view.tripId, problems: invariantViolations(view.status, audit) }).toEqual({
      trip: view.tripId,
      problems: [],
    });
    // Invariant 2: a row per forward key, never two.
    for (const rows of Object.values(audit)) {
      expect(rows.length).toBeLessThanOrEqual(1);
      for (const row of rows) expect(row.idempotencyKey.startsWith(`${view.tripId}:`)).toBe(true);
    }
  }
}

it('ends every trip consistent when participants crash between commit and ack half of the time', async () => {
  pg = await createTestDatabase('choreolost');
  stack = await startChoreographyStack({ databaseUrl: pg.url, faults: 'lost=0.5,delay=0-20', ackWaitMs: 1000 });
  const s = stack;
  const ids = await Promise.all(WORKLOAD.map(([request]) => s.book(request)));
  await expectConsistent(
    s,
    ids,
    WORKLOAD.map(([, status]) => status),
  );
  // The faults really happened: acks were lost, and the redeliveries found their inbox rows.
  const stats = Object.values(s.services).map((svc) => svc.stats);
  const totals = () => ({
    lost: stats.reduce((n, st) => n + st.lostReplies, 0),
    replayed: stats.reduce((n, st) => n + st.replayed, 0),
  });
  // The trips can be consistent before the last lost ack comes back (ackWaitMs later): wait for it.
  for (const deadline = Date.now() + 15_000; totals().replayed < totals().lost && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 100));
  const { lost, replayed } = totals();
  expect(lost).toBeGreaterThan(0);
  // A lost ack is redelivered until acked; the redelivery may itself lose its ack again only as a duplicate.
  expect(replayed).toBeGreaterThanOrEqual(lost);
  // Exactly once: one outcome email per trip, whatever was redelivered.
  const emails: Array<{ trip_id: string }> = await s.notificationsDb('emails').whereIn('trip_id', ids);
  expect(emails.map((e) => e.trip_id).sort()).toEqual([...ids].sort());
});

it('ends every trip consistent when the hotel service is killed mid-trip and restarted', async () => {
  pg = await createTestDatabase('choreokill');
  stack = await startChoreographyStack({ databaseUrl: pg.url, external: ['hotel'], ackWaitMs: 1000 });
  const s = stack;
  const startHotel = (faults?: string) => {
    const spawned = spawnUntil(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/processes/services.ts'), 'hotel'],
      {
        cwd: ROOT,
        env: { ...process.env, ...s.env, FAULTS: faults },
        ready: 'service listening',
        timeoutMs: 60_000,
        what: 'hotel service',
      },
    );
    child = spawned.proc;
    return spawned.ready;
  };
  // Slow hotel: its events pile up, so the kill lands with trips in every stage.
  await startHotel('delay=150-300');
  const ids = await Promise.all(WORKLOAD.map(([request]) => s.book(request)));
  const hotelDb = s.services.flight?.db; // any open handle of the test database reaches the hotel schema
  const reservedHotels = async () =>
    Number(
      ((await hotelDb?.withSchema('hotel').table('reservations').count({ n: '*' })) as Array<{ n: number }>)[0]?.n ?? 0,
    );
  const deadline = Date.now() + 60_000;
  while ((await reservedHotels()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const killed = child as ChildProcess;
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('exit', r));
  // Mid-trip: at the kill, some trip had not ended.
  const ended = await Promise.all(
    ids.map(async (id) => (await s.apiDb('trips').where({ trip_id: id }).first())?.status as string),
  );
  expect(ended.some((st) => !['CONFIRMED', 'COMPENSATED'].includes(st))).toBe(true);
  await startHotel();
  await expectConsistent(
    s,
    ids,
    WORKLOAD.map(([, status]) => status),
  );
});
