/**
 * The two-phase-commit flavour end to end on a private PostgreSQL cluster with prepared
 * transactions: every step's failure rolls back everything, lost replies and a participant that
 * is away still end consistent, and where prepared transactions are off it says what to set up.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { startPrivatePostgres, type PrivatePostgres } from '../../src/testkit/private-postgres';
import { startTwoPhaseStack, type TwoPhaseStack } from '../../src/testkit/two-phase-stack';
import { createTestDatabase } from '../../src/testkit/pg';
import { loadConfig } from '../../src/config';
import { startBookingService } from '../../src/services/booking-service';
import { startCoordinator } from '../../src/twophase/start-coordinator';
import { startTwoPhaseTrip, TwoPhaseCoordinatorUnreachableError, TwoPhaseUnavailableError } from '../../src/twophase';
import { connect, preparedGids, reserved, settledView, until } from '../support/two-phase';

const newTripId = () => `trip-2pc-${randomUUID()}`;

let cluster: PrivatePostgres;
beforeAll(async () => {
  cluster = await startPrivatePostgres();
});
afterAll(() => cluster?.stop());

describe('two-phase trips', () => {
  let stack: TwoPhaseStack;
  let db: Knex;
  beforeAll(async () => {
    stack = await startTwoPhaseStack({ databaseUrl: await cluster.createDatabase('plain') });
    db = connect(stack.env.DATABASE_URL!);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  it('confirms a trip: one active reservation per service and one captured charge, keyed <tripId>:<step>', async () => {
    const tripId = newTripId();
    await startTwoPhaseTrip(stack.config.twophase, tripId, sampleTrip());
    const view = await settledView(stack.config.twophase, tripId);
    expect(view.status).toBe('CONFIRMED');
    expect(Object.values(view.steps).map((s) => s.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
    const audit = await auditTrip(stack.config, tripId);
    expect(invariantViolations(view.status, audit)).toEqual([]);
    expect(audit.flight.map((r) => [r.tripId, r.idempotencyKey, r.status])).toEqual([
      [tripId, `${tripId}:flight`, 'ACTIVE'],
    ]);
    expect(audit.payment.map((r) => [r.idempotencyKey, r.status])).toEqual([[`${tripId}:payment`, 'CAPTURED']]);
    expect(await preparedGids(db, tripId)).toEqual([]);
    // Starting it again returns the same trip, nothing booked twice.
    await startTwoPhaseTrip(stack.config.twophase, tripId, sampleTrip());
    expect((await auditTrip(stack.config, tripId)).hotel).toHaveLength(1);
  });

  it.each([
    ['flight', { flight: { flightNumber: 'SOLDOUT1' } }, 'SOLD_OUT'],
    ['hotel', { hotel: { hotelId: 'H-FULL' } }, 'SOLD_OUT'],
    ['car', { car: { location: 'NOWHERE' } }, 'SOLD_OUT'],
    ['payment', { payment: { token: 'tok_declined' } }, 'PAYMENT_DECLINED'],
  ] as const)('rolls everything back when the %s votes no', async (step, overrides, type) => {
    const tripId = newTripId();
    const day = '2027-04-11';
    const trip = sampleTrip({
      ...overrides,
      flight: { date: day, ...(overrides as { flight?: object }).flight },
    });
    const before = await reserved(db, 'flight', 'UA100', day);
    await startTwoPhaseTrip(stack.config.twophase, tripId, trip);
    const view = await settledView(stack.config.twophase, tripId);
    expect(view.status).toBe('COMPENSATED');
    expect(view.reason).toMatchObject({ step, type });
    expect(view.steps[step].status).toBe('FAILED');
    const audit = await auditTrip(stack.config, tripId);
    expect(audit).toEqual({ flight: [], hotel: [], car: [], payment: [] });
    expect(invariantViolations(view.status, audit)).toEqual([]);
    expect(await preparedGids(db, tripId)).toEqual([]);
    expect(await reserved(db, 'flight', 'UA100', day)).toBe(before);
  });

  it('keeps readers outside: mid-trip nothing of the trip is visible, then all of it', async () => {
    const tripId = newTripId();
    // A slow payment keeps the other three prepared (and invisible) for a while.
    const slow = await startTwoPhaseStack({
      databaseUrl: await cluster.createDatabase('slow'),
      faults: 'delay=400-400',
    });
    try {
      await startTwoPhaseTrip(slow.config.twophase, tripId, sampleTrip());
      const probe = connect(slow.env.DATABASE_URL!);
      try {
        const deadline = Date.now() + 20_000;
        while ((await preparedGids(probe, tripId)).length < 2 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect((await preparedGids(probe, tripId)).length).toBeGreaterThanOrEqual(2);
        expect(await auditTrip(slow.config, tripId)).toEqual({ flight: [], hotel: [], car: [], payment: [] });
      } finally {
        await probe.destroy();
      }
      expect((await settledView(slow.config.twophase, tripId)).status).toBe('CONFIRMED');
      expect(invariantViolations('CONFIRMED', await auditTrip(slow.config, tripId))).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});

describe('two-phase trips when the network lies', () => {
  it('ends every trip consistent when participants commit and then drop the reply', async () => {
    const stack = await startTwoPhaseStack({ databaseUrl: await cluster.createDatabase('lost'), faults: 'lost=0.3' });
    const db = connect(stack.env.DATABASE_URL!);
    try {
      const trips = Array.from({ length: 6 }, (_, i) => ({
        tripId: newTripId(),
        request: sampleTrip({
          flight: { date: `2027-05-0${i + 1}` },
          ...(i === 5 ? { car: { location: 'NOWHERE' } } : {}),
        }),
      }));
      for (const t of trips) await startTwoPhaseTrip(stack.config.twophase, t.tripId, t.request);
      for (const t of trips) {
        const view = await settledView(stack.config.twophase, t.tripId, 60_000);
        expect(view.status).toBe(t.request.car.location === 'NOWHERE' ? 'COMPENSATED' : 'CONFIRMED');
        expect(invariantViolations(view.status, await auditTrip(stack.config, t.tripId))).toEqual([]);
        expect(await preparedGids(db, t.tripId)).toEqual([]);
      }
      const lost = Object.values(stack.services).reduce((n, s) => n + s.stats.lostReplies, 0);
      expect(lost).toBeGreaterThan(0);
    } finally {
      await db.destroy();
      await stack.stop();
    }
  });

  it('aborts when a participant is down at its prepare, and finishes the rollback once it is back', async () => {
    const stack = await startTwoPhaseStack({
      databaseUrl: await cluster.createDatabase('down'),
      env: { TWOPHASE_PREPARE_TIMEOUT_MS: '1500' },
    });
    const db = connect(stack.env.DATABASE_URL!);
    try {
      await stack.services.payment!.close();
      delete stack.services.payment;
      const tripId = newTripId();
      await startTwoPhaseTrip(stack.config.twophase, tripId, sampleTrip({ flight: { date: '2027-06-01' } }));
      // Flight, hotel and car prepared and rolled back; the payment's rollback waits for it.
      const waiting = await until('the rollback of the three that prepared', async () => {
        const v = await stack.coordinator!.coordinator.view(tripId);
        return v?.status === 'COMPENSATING' && v.steps.car.status === 'COMPENSATED' && v;
      });
      expect(waiting).toMatchObject({ reason: { step: 'payment', type: 'NO_ANSWER' } });
      expect(waiting.steps.flight.status).toBe('COMPENSATED');
      expect(await preparedGids(db, tripId)).toEqual([]);
      await stack.startService('payment');
      const settled = await settledView(stack.config.twophase, tripId);
      expect(settled.status).toBe('COMPENSATED');
      expect(await auditTrip(stack.config, tripId)).toEqual({ flight: [], hotel: [], car: [], payment: [] });
    } finally {
      await db.destroy();
      await stack.stop();
    }
  });
});

describe('two-phase commit without prepared transactions', () => {
  it('refuses to start the coordinator on a server with max_prepared_transactions = 0, saying what to set', async () => {
    const machine = await createTestDatabase('twophase_off');
    try {
      const config = loadConfig({ DATABASE_URL: machine.url, LOG_LEVEL: 'warn' });
      const err = await startCoordinator(config).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TwoPhaseUnavailableError);
      expect((err as Error).message).toMatch(
        /max_prepared_transactions = 0.*ALTER SYSTEM SET max_prepared_transactions/,
      );
      const payment = await startBookingService('payment', config, { port: 0 });
      try {
        const res = await payment.app.inject({
          method: 'POST',
          url: '/2pc/prepare',
          payload: { gid: 'tripsaga:trip-x:payment', request: { tripId: 'trip-x', ...sampleTrip().payment } },
        });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toMatchObject({ code: 'PREPARED_TRANSACTIONS_UNAVAILABLE' });
        expect(res.json().title).toMatch(/max_prepared_transactions/);
      } finally {
        await payment.close();
      }
    } finally {
      await machine.drop();
    }
  });

  it('refuses on SQLite and tells a client with no coordinator how to start one', async () => {
    const config = loadConfig({ LOG_LEVEL: 'warn' });
    await expect(startCoordinator(config)).rejects.toThrow(/DATABASE_URL is not set.*max_prepared_transactions/);
    const err = await startTwoPhaseTrip({ url: 'http://127.0.0.1:9' }, newTripId(), sampleTrip()).catch((e) => e);
    expect(err).toBeInstanceOf(TwoPhaseCoordinatorUnreachableError);
    expect((err as Error).message).toMatch(/npm run coordinator/);
  });
});
