/** Which events send an email and what it says: one per trip outcome, one per refund, none otherwise. */
import { emailForEvent } from '../../src/services/notifications/email-for-event';
import type { EventEnvelope } from '../../src/outbox/event';

const event = (aggregateType: string, type: string, payload: unknown): EventEnvelope => ({
  id: 'e1',
  source: 'api',
  aggregateType,
  aggregateId: 'trip-9',
  type,
  payload,
  createdAt: 0,
});

it('writes the customer one email per trip outcome', () => {
  const trip = { tripId: 'trip-1', customerId: 'cust-42', reason: { message: 'hotel H-FULL is sold out' } };
  expect(emailForEvent(event('trip', 'TripConfirmed', trip))).toEqual({
    tripId: 'trip-1',
    kind: 'confirmation',
    recipient: 'cust-42@customers.example',
    subject: 'Your trip trip-1 is confirmed',
    body: 'Flight, hotel and car are booked and your card was charged.',
  });
  expect(emailForEvent(event('trip', 'TripCancelled', trip))).toMatchObject({
    kind: 'cancellation',
    subject: 'Your trip trip-1 was cancelled',
  });
  expect(emailForEvent(event('trip', 'TripCompensated', trip))).toMatchObject({
    kind: 'booking-failed',
    body: 'Nothing was booked and nothing is charged. Reason: hotel H-FULL is sold out.',
  });
  expect(emailForEvent(event('trip', 'TripConfirmed', {}))).toMatchObject({
    tripId: 'trip-9',
    recipient: 'unknown-customer@customers.example',
  });
});

it('writes billing about a refund, and nothing about reservations, captures or unknown types', () => {
  expect(
    emailForEvent(event('charge', 'ChargeRefunded', { tripId: 'trip-1', amountCents: 123400, currency: 'USD' })),
  ).toMatchObject({
    kind: 'refund',
    recipient: 'billing+trip-1@customers.example',
    subject: 'Refund of 1234.00 USD for trip trip-1',
  });
  expect(emailForEvent(event('charge', 'ChargeCaptured', {}))).toBeNull();
  expect(emailForEvent(event('reservation', 'ReservationCancelled', {}))).toBeNull();
  expect(emailForEvent(event('trip', 'toString', {}))).toBeNull();
  expect(emailForEvent(event('reservation', 'TripConfirmed', {}))).toBeNull();
});
