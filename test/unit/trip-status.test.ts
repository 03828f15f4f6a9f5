/** The status sets every reader shares: which statuses end a trip, which are still booking, what may follow what. */
import {
  BOOKING_STATUSES,
  canMoveTo,
  isTerminalStatus,
  isTripStatus,
  TERMINAL_STATUSES,
  TRIP_STATUSES,
} from '../../src/shared/trip-status';
import { cancellationWorkflowId, initialView, tripIdOfCancellation } from '../../src/shared/trip';

it('ends a trip in exactly CONFIRMED, COMPENSATED, CANCELLED and NEEDS_ATTENTION', () => {
  expect([...TERMINAL_STATUSES].sort()).toEqual(['CANCELLED', 'COMPENSATED', 'CONFIRMED', 'NEEDS_ATTENTION']);
  expect(TRIP_STATUSES.filter(isTerminalStatus)).toEqual(TERMINAL_STATUSES);
  expect(BOOKING_STATUSES).toEqual(['PENDING', 'BOOKING']);
  expect(BOOKING_STATUSES.some(isTerminalStatus)).toBe(false);
});

it('knows the statuses of the contract and nothing else', () => {
  for (const status of TRIP_STATUSES) expect(isTripStatus(status)).toBe(true);
  expect(isTripStatus('confirmed')).toBe(false);
  expect(isTripStatus('DONE')).toBe(false);
});

it('never moves a trip out of COMPENSATED, CANCELLED or NEEDS_ATTENTION, and a CONFIRMED one only into a cancellation', () => {
  for (const from of ['COMPENSATED', 'CANCELLED', 'NEEDS_ATTENTION'] as const) {
    expect(TRIP_STATUSES.filter((to) => canMoveTo(from, to))).toEqual([from]);
  }
  expect(TRIP_STATUSES.filter((to) => canMoveTo('CONFIRMED', to))).toEqual([
    'CONFIRMED',
    'CANCELLING',
    'CANCELLED',
    'NEEDS_ATTENTION',
  ]);
  expect(canMoveTo('CANCELLING', 'CONFIRMED')).toBe(false);
  for (const to of TRIP_STATUSES) expect(canMoveTo('BOOKING', to)).toBe(true);
});

it('starts every trip PENDING with each step keyed <workflowId>:<step>', () => {
  expect(initialView('trip-1')).toEqual({
    tripId: 'trip-1',
    workflowId: 'trip-1',
    status: 'PENDING',
    steps: {
      flight: { status: 'PENDING', idempotencyKey: 'trip-1:flight' },
      hotel: { status: 'PENDING', idempotencyKey: 'trip-1:hotel' },
      car: { status: 'PENDING', idempotencyKey: 'trip-1:car' },
      payment: { status: 'PENDING', idempotencyKey: 'trip-1:payment' },
    },
  });
  expect(tripIdOfCancellation(cancellationWorkflowId('trip-1'))).toBe('trip-1');
});
