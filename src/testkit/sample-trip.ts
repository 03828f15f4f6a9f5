/** The trip request of docs/architecture.md, with overrides for the failure triggers. */
import type { TripRequest } from '../shared/trip';

export function sampleTrip(
  overrides: Partial<{ [K in keyof TripRequest]: Partial<TripRequest[K]> }> = {},
): TripRequest {
  return {
    customerId: overrides.customerId === undefined ? 'cust-42' : String(overrides.customerId),
    flight: { flightNumber: 'UA100', date: '2027-03-01', seats: 1, ...(overrides.flight as object) },
    hotel: {
      hotelId: 'H-NYC-1',
      checkIn: '2027-03-01',
      checkOut: '2027-03-03',
      rooms: 1,
      ...(overrides.hotel as object),
    },
    car: { location: 'JFK', pickUp: '2027-03-01', dropOff: '2027-03-03', ...(overrides.car as object) },
    payment: { token: 'tok_visa', amountCents: 123400, currency: 'USD', ...(overrides.payment as object) },
  };
}
