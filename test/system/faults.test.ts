/**
 * Chaos: the services commit and then drop half of their replies (FAULTS=lost=0.5), and fail or
 * delay others. Every trip must still end consistent (invariants 1-3 of docs/architecture.md) and no
 * idempotency key may have two side effects.
 */
import { randomUUID } from 'node:crypto';
import type { TripRequest } from '../../src/shared/trip';
import { bookTrip } from '../../src/workflows';
import { auditTrip, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';

let stack: Stack;
afterEach(async () => {
  await stack?.stop();
});

async function runChaos(faults: string): Promise<void> {
  stack = await startStack({ faults });
  const requests: TripRequest[] = [
    sampleTrip(),
    sampleTrip({ flight: { flightNumber: 'DL300' }, hotel: { hotelId: 'H-SFO-1' }, car: { location: 'SFO' } }),
    sampleTrip({ flight: { flightNumber: 'SOLDOUT1' } }),
    sampleTrip({ hotel: { hotelId: 'H-FULL' } }),
    sampleTrip({ car: { location: 'NOWHERE' } }),
    sampleTrip({ payment: { token: 'tok_declined' } }),
    sampleTrip({ flight: { seats: 2 } }),
    sampleTrip({ hotel: { rooms: 3 } }),
  ];
  const expected = [
    'CONFIRMED',
    'CONFIRMED',
    'COMPENSATED',
    'COMPENSATED',
    'COMPENSATED',
    'COMPENSATED',
    'CONFIRMED',
    'CONFIRMED',
  ];
  const ids = requests.map(() => `trip-chaos-${randomUUID()}`);
  const views = await Promise.all(
    requests.map((request, i) =>
      stack.client.workflow.execute(bookTrip, {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: ids[i] as string,
        args: [request],
      }),
    ),
  );
  expect(views.map((v) => v.status)).toEqual(expected);

  // The faults really happened: replies were lost and the retries were answered by replays.
  const stats = Object.values(stack.services).map((svc) => svc.stats);
  const lost = stats.reduce((n, s) => n + s.lostReplies, 0);
  const replayed = stats.reduce((n, s) => n + s.replayed, 0);
  expect(lost).toBeGreaterThan(0);
  expect(replayed).toBeGreaterThanOrEqual(lost);

  const known = new Set(ids);
  for (const view of views) {
    const audit = await auditTrip(stack.config, view.tripId);
    expect({ trip: view.tripId, problems: invariantViolations(view.status, audit) }).toEqual({
      trip: view.tripId,
      problems: [],
    });
    // Invariant 2: one key, at most one side effect (a row per forward key, never two).
    for (const rows of Object.values(audit)) {
      expect(rows.length).toBeLessThanOrEqual(1);
      for (const row of rows) {
        expect(known.has(row.tripId)).toBe(true);
        expect(row.idempotencyKey.startsWith(`${view.tripId}:`)).toBe(true);
      }
    }
  }
  // Invariant 3, over every row of every service: nothing exists for a trip the system does not know.
  for (const [name, svc] of Object.entries(stack.services)) {
    const rows: Array<{ trip_id: string }> = await svc
      .db(name === 'payment' ? 'charges' : 'reservations')
      .select('trip_id');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => !known.has(r.trip_id))).toEqual([]);
  }
}

it('keeps every trip consistent when half of the replies are lost after commit', async () => {
  await runChaos('lost=0.5');
});

it('keeps every trip consistent with lost replies, 503s and latency together', async () => {
  await runChaos('lost=0.3,error=0.2,delay=0-40');
});
