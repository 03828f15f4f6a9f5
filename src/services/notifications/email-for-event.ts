/** Which events get an email, and what it says. Pure: the stand-in for templates. */
import { DEFAULT_OPS_EMAIL } from '../../config';
import type { EventEnvelope } from '../../outbox/event';

export interface EmailDraft {
  tripId: string;
  kind: 'confirmation' | 'cancellation' | 'booking-failed' | 'refund' | 'needs-attention';
  recipient: string;
  subject: string;
  body: string;
}

interface TripPayload {
  tripId?: string;
  customerId?: string;
  reason?: { step?: string; type?: string; message?: string };
  steps?: Record<string, { status?: string; error?: { message?: string } }>;
}

export interface EmailOptions {
  /** Who is told about trips that need a human (config OPS_EMAIL). */
  opsEmail?: string;
}

/** The operators' email for a trip whose compensation failed for good: what to undo by hand. */
function needsAttentionEmail(tripId: string, p: TripPayload, opsEmail: string): EmailDraft {
  const failed = Object.entries(p.steps ?? {})
    .filter(([, s]) => s.status === 'COMPENSATION_FAILED')
    .map(([step, s]) => `- ${step}: ${s.error?.message ?? 'undo failed'}`);
  return {
    tripId,
    kind: 'needs-attention',
    recipient: opsEmail,
    subject: `NEEDS ATTENTION: trip ${tripId} could not be undone`,
    body: [
      `Trip ${tripId} of customer ${p.customerId ?? 'unknown'} stopped with something still to undo by hand.`,
      `Why it was being undone: ${p.reason?.message ?? 'unknown'}.`,
      'Undo failed for good:',
      ...(failed.length > 0 ? failed : ['- (see the run in the Temporal Web UI)']),
      'Check the audit endpoints (GET /reservations?tripId=, GET /charges?tripId=) and undo what is left.',
    ].join('\n'),
  };
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
      body: (p) => `Nothing was booked and nothing is charged. Reason: ${str(p.reason?.message) ?? 'unknown'}.`,
    },
  } satisfies Record<string, TripEmail>),
);

/** A payload string fit for a text column (the payload is not validated: anything else is absent). */
const str = (v: unknown): string | undefined => (typeof v === 'string' && !v.includes('\u0000') ? v : undefined);

/** The email an event calls for, or null (reservation and capture events send none). */
export function emailForEvent(event: EventEnvelope, options: EmailOptions = {}): EmailDraft | null {
  if (event.aggregateType === 'trip' && event.type === 'TripNeedsAttention') {
    const p = (event.payload ?? {}) as TripPayload;
    return needsAttentionEmail(p.tripId ?? event.aggregateId, p, options.opsEmail ?? DEFAULT_OPS_EMAIL);
  }
  const tripEmail = event.aggregateType === 'trip' ? TRIP_EMAILS.get(event.type) : undefined;
  if (tripEmail) {
    const p = (event.payload ?? {}) as TripPayload;
    const tripId = str(p.tripId) ?? event.aggregateId;
    return {
      tripId,
      kind: tripEmail.kind,
      recipient: `${str(p.customerId) ?? 'unknown-customer'}@customers.example`,
      subject: tripEmail.subject(tripId),
      body: tripEmail.body(p),
    };
  }
  if (event.aggregateType === 'charge' && event.type === 'ChargeRefunded') {
    const p = (event.payload ?? {}) as ChargePayload;
    const tripId = str(p.tripId) ?? event.aggregateId;
    return {
      tripId,
      kind: 'refund',
      recipient: `billing+${tripId}@customers.example`,
      subject: `Refund of ${money(typeof p.amountCents === 'number' ? p.amountCents : 0, str(p.currency)?.slice(0, 3))} for trip ${tripId}`,
      body: 'The charge for this trip was refunded to your card.',
    };
  }
  return null;
}
