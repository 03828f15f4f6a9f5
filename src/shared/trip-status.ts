/**
 * A trip's statuses (docs/architecture.md) and the sets every reader needs: which end a trip,
 * which are still booking, which may follow which. Pure and deterministic: the workflow bundle,
 * the trip API, trips/ and the client all read them from here.
 */

export const TRIP_STATUSES = [
  'PENDING',
  'BOOKING',
  'CONFIRMED',
  'COMPENSATING',
  'COMPENSATED',
  'CANCELLING',
  'CANCELLED',
  'NEEDS_ATTENTION',
] as const;
export type TripStatus = (typeof TRIP_STATUSES)[number];

/** Where a `bookTrip` or cancellation run ends: its view no longer changes by itself. */
export const TERMINAL_STATUSES: readonly TripStatus[] = ['CONFIRMED', 'COMPENSATED', 'CANCELLED', 'NEEDS_ATTENTION'];

/** A trip still booking: the `cancel` update of its run stops it. */
export const BOOKING_STATUSES: readonly TripStatus[] = ['PENDING', 'BOOKING'];

export const isTripStatus = (value: string): value is TripStatus =>
  (TRIP_STATUSES as readonly string[]).includes(value);
export const isTerminalStatus = (status: TripStatus): boolean => TERMINAL_STATUSES.includes(status);
export const isBookingStatus = (status: TripStatus): boolean => BOOKING_STATUSES.includes(status);

/**
 * The statuses a trip may move to from each status. A confirmed trip can still be cancelled
 * (by a cancellation run), so CONFIRMED is terminal for its run but not for the trip.
 */
const NEXT: Record<TripStatus, readonly TripStatus[]> = {
  PENDING: TRIP_STATUSES,
  BOOKING: TRIP_STATUSES,
  COMPENSATING: TRIP_STATUSES,
  CONFIRMED: ['CANCELLING', 'CANCELLED', 'NEEDS_ATTENTION'],
  CANCELLING: ['CANCELLED', 'NEEDS_ATTENTION'],
  CANCELLED: [],
  COMPENSATED: [],
  NEEDS_ATTENTION: [],
};

/** True when a trip in `from` may be seen next in `to` (the same status again included). */
export const canMoveTo = (from: TripStatus, to: TripStatus): boolean => from === to || NEXT[from].includes(to);
