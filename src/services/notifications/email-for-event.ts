/** Which events get an email, and what it says. Pure: the stand-in for templates. */
import type { EventEnvelope } from '../../outbox/event';

export interface EmailDraft {
  tripId: string;
  kind: 'confirmation' | 'cancellation' | 'booking-failed' | 'refund';
  recipient: string;
  subject: string;
  body: string;
}

interface TripPayload {
  tripId?: string;
  customerId?: string;
  reason?: { message?: string };
}
interface ChargePayload {
  tripId?: string;
  amountCents?: number;
  currency?: string;
}

const money = (cents = 0, currency = '') => `${(cents / 100).toFixed(2)} ${currency}`.trim();

/** The email each trip outcome sends the customer. */
interface TripEmail {
  kind: EmailDraft['kind'];
  subject: (tripId: string) => string;
  body: (p: TripPayload) => string;
}
const TRIP_EMAILS = new Map<string, TripEmail>(
  Object.entries({
    TripConfirmed: {
      kind: 'confirmation',
      subject: (tripId) => `Your trip ${tripId} is confirmed`,
      body: () => 'Flight, hotel and car are booked and your card was charged.',
    },
    TripCancelled: {
      kind: 'cancellation',
      subject: (tripId) => `Your trip ${tripId} was cancelled`,
      body: () => 'Everything was released and any charge refunded.',
    },
    TripCompensated: {
      kind: 'booking-failed',
      subject: (tripId) => `We could not book your trip ${tripId}`,
      body: (p) => `Nothing was booked and nothing is charged. Reason: ${p.reason?.message ?? 'unknown'}.`,
    },
  } satisfies Record<string, TripEmail>),
);

/** The email an event calls for, or null (reservation and capture events send none). */
export function emailForEvent(event: EventEnvelope): EmailDraft | null {
  const tripEmail = event.aggregateType === 'trip' ? TRIP_EMAILS.get(event.type) : undefined;
  if (tripEmail) {
    const p = (event.payload ?? {}) as TripPayload;
    const tripId = p.tripId ?? event.aggregateId;
    return {
      tripId,
      kind: tripEmail.kind,
      recipient: `${p.customerId ?? 'unknown-customer'}@customers.example`,
      subject: tripEmail.subject(tripId),
      body: tripEmail.body(p),
    };
  }
  if (event.aggregateType === 'charge' && event.type === 'ChargeRefunded') {
    const p = (event.payload ?? {}) as ChargePayload;
    const tripId = p.tripId ?? event.aggregateId;
    return {
      tripId,
      kind: 'refund',
      recipient: `billing+${tripId}@customers.example`,
      subject: `Refund of ${money(p.amountCents, p.currency)} for trip ${tripId}`,
      body: 'The charge for this trip was refunded to your card.',
    };
  }
  return null;
}
