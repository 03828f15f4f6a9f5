/**
 * The reason sagas exist, asserted: a 2PC coordinator SIGKILLed between the phases leaves prepared
 * transactions whose row locks block a conflicting booking (the saga's own route) until a new
 * coordinator recovers them from the decision log — abort when no decision was logged, commit
 * when it was. Also: a participant away during phase 2 holds its part until it is back.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { SEED_CAPACITY } from '../../src/services/booking/catalog';
import { startPrivatePostgres, type PrivatePostgres } from '../../src/testkit/private-postgres';
import { startTwoPhaseStack, type TwoPhaseStack } from '../../src/testkit/two-phase-stack';
import { readTwoPhaseTrip, startTwoPhaseTrip } from '../../src/twophase';
import { connect, preparedGids, reserved, settledView, until } from '../support/two-phase';

let cluster: PrivatePostgres;
beforeAll(async () => {
  cluster = await startPrivatePostgres();
});
afterAll(() => cluster?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lock waits in this database right now (a blocked booking shows here). */
async function waitingLocks(db: Knex): Promise<number> {
  const r = await db.raw<{ rows: Array<{ n: string }> }>(
    `SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database OR l.locktype = 'transactionid'
      WHERE NOT l.granted AND d.datname = current_database()`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

describe.each([
  ['after-prepare', 'COMPENSATED'],
  ['after-decision', 'CONFIRMED'],
] as const)('a coordinator SIGKILLed %s', (crash, outcome) => {
  let stack: TwoPhaseStack;
  let db: Knex;
  beforeAll(async () => {
    stack = await startTwoPhaseStack({
      databaseUrl: await cluster.createDatabase(`crash_${crash.replace('-', '_')}`),
      inProcessCoordinator: false,
    });
    db = connect(stack.env.DATABASE_URL!);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  it(`blocks a conflicting booking until recovery finishes the trip (${outcome})`, async () => {
    const day = '2027-07-01';
    const tripId = `trip-2pc-${randomUUID()}`;
    // The day's allocation row exists already (an earlier booking made it), so the trip updates it.
    await db
      .withSchema('flight')
      .table('allocations')
      .insert({ resource_id: 'UA100', day, capacity: SEED_CAPACITY, reserved: 0 })
      .onConflict(['resource_id', 'day'])
      .ignore();
    const before = await reserved(db, 'flight', 'UA100', day);
    const doomed = await stack.spawnCoordinator({ TWOPHASE_TEST_CRASH: crash });
    const exited = once(doomed, 'exit');
    // The answer may or may not leave before the kill; the trip is logged either way.
    await startTwoPhaseTrip(stack.config.twophase, tripId, sampleTrip({ flight: { date: day } })).catch(
      () => undefined,
    );
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');

    // In doubt: all four prepared, nothing visible to an outsider.
    expect(await preparedGids(db, tripId)).toHaveLength(4);
    expect(await auditTrip(stack.config, tripId)).toEqual({ flight: [], hotel: [], car: [], payment: [] });

    // The seat's row is locked by a transaction no session owns: a writer times out on it...
    const probe = connect(stack.env.DATABASE_URL!, 'flight');
    try {
      await expect(
        probe.transaction(async (trx) => {
          await trx.raw("SET LOCAL lock_timeout = '300ms'");
          await trx('allocations').where({ resource_id: 'UA100', day }).increment('reserved', 0);
        }),
      ).rejects.toMatchObject({ code: '55P03' });
    } finally {
      await probe.destroy();
    }
    // ...and another booking of the same flight through the saga's route waits in pg_locks.
    const otherTrip = `trip-other-${randomUUID()}`;
    const booking = fetch(`${stack.config.services.flight.url}/reservations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${otherTrip}:flight` },
      body: JSON.stringify({ tripId: otherTrip, flightNumber: 'UA100', date: day, seats: 1 }),
    });
    await until('the other booking to wait for the lock', async () => (await waitingLocks(db)) > 0);
    expect(await Promise.race([booking.then(() => 'answered'), sleep(1000).then(() => 'still waiting')])).toBe(
      'still waiting',
    );

    // A new coordinator recovers from the log and the booking goes through.
    await stack.spawnCoordinator();
    const view = await settledView(stack.config.twophase, tripId);
    expect(view.status).toBe(outcome);
    expect((await booking).status).toBe(201);
    expect(await preparedGids(db, tripId)).toEqual([]);
    expect(invariantViolations(view.status, await auditTrip(stack.config, tripId))).toEqual([]);
    expect(await reserved(db, 'flight', 'UA100', day)).toBe(before + 1 + (outcome === 'CONFIRMED' ? 1 : 0));
    if (outcome === 'COMPENSATED') expect(view.reason).toMatchObject({ type: 'COORDINATOR_RESTARTED' });
  });
});

describe('a participant away during phase 2', () => {
  it('keeps its part prepared (and locked) until it is back, then the trip confirms', async () => {
    const stack = await startTwoPhaseStack({
      databaseUrl: await cluster.createDatabase('phase2'),
      inProcessCoordinator: false,
    });
    const db = connect(stack.env.DATABASE_URL!);
    try {
      const tripId = `trip-2pc-${randomUUID()}`;
      const doomed = await stack.spawnCoordinator({ TWOPHASE_TEST_CRASH: 'after-decision' });
      const exited = once(doomed, 'exit');
      await startTwoPhaseTrip(stack.config.twophase, tripId, sampleTrip({ flight: { date: '2027-07-09' } })).catch(
        () => undefined,
      );
      await exited;
      // The payment service dies too; its prepared transaction lives on in PostgreSQL.
      await stack.services.payment!.close();
      delete stack.services.payment;
      await stack.spawnCoordinator();
      await until('flight, hotel and car to commit', async () => (await preparedGids(db, tripId)).length === 1);
      expect(await preparedGids(db, tripId)).toEqual([`tripsaga:${tripId}:payment`]);
      // 2PC is not isolated either once phase 2 is partial: the flight shows while the charge is in doubt.
      const midway = await readTwoPhaseTrip(stack.config.twophase, tripId);
      expect(midway?.status).toBe('BOOKING');
      await stack.startService('payment');
      const view = await settledView(stack.config.twophase, tripId);
      expect(view.status).toBe('CONFIRMED');
      expect(invariantViolations(view.status, await auditTrip(stack.config, tripId))).toEqual([]);
      expect(await preparedGids(db, tripId)).toEqual([]);
    } finally {
      await db.destroy();
      await stack.stop();
    }
  });
});
