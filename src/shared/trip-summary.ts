/**
 * Human-readable one-liners for a trip and its steps: the run's static summary in the Web UI and
 * the live step list (each step's own summaries are in saga-steps.ts).
 * Pure and deterministic: the workflow bundle imports it.
 */
import type { TripRequest, TripView } from './trip';

/** `123400, 'USD'` → `USD 1,234.00` (no Intl: identical in every sandbox). */
export function formatMoney(amountCents: number, currency: string): string {
  const whole = Math.floor(Math.abs(amountCents) / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = String(Math.abs(amountCents) % 100).padStart(2, '0');
  return `${currency} ${amountCents < 0 ? '-' : ''}${whole}.${cents}`;
}

/** Whole days between two ISO dates (`2027-03-01` → `2027-03-03` = 2). */
export function nightsBetween(from: string, to: string): number {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  return Number.isFinite(days) ? Math.max(0, Math.round(days)) : 0;
}

/** Only the last characters of a payment token ever leave the request (memo, UI, logs). */
export const maskToken = (token: string): string => `…${token.slice(-4)}`;

/** The request with its payment token masked: what is stored and shown outside Temporal's encrypted payloads. */
export function redactedRequest(request: TripRequest): TripRequest {
  return { ...request, payment: { ...request.payment, token: maskToken(request.payment.token) } };
}

/** The run's one-line summary: "UA100 2027-03-01 · H-NYC-1, 2 nights · car JFK · USD 1,234.00". */
export function tripSummary(r: TripRequest): string {
  const nights = nightsBetween(r.hotel.checkIn, r.hotel.checkOut);
  return [
    `${r.flight.flightNumber} ${r.flight.date}`,
    `${r.hotel.hotelId}, ${nights} night${nights === 1 ? '' : 's'}`,
    `car ${r.car.location}`,
    formatMoney(r.payment.amountCents, r.payment.currency),
  ].join(' · ');
}

const STEP_ICON: Record<string, string> = {
  PENDING: '·',
  RUNNING: '…',
  DONE: '✔',
  FAILED: '✖',
  COMPENSATING: '↩…',
  COMPENSATED: '↩',
  COMPENSATION_FAILED: '⚠',
};

/** The live step list shown as the run's "current details" (Temporal markdown). */
export function progressDetails(view: TripView): string {
  const lines: string[] = [];
  if (view.status === 'NEEDS_ATTENTION') {
    lines.push('**⚠ NEEDS ATTENTION: a compensation failed for good; a human must undo what is still booked.**', '');
  }
  lines.push(`**Trip ${view.status}**`, '');
  for (const [step, s] of Object.entries(view.steps)) {
    lines.push(
      `- ${STEP_ICON[s.status] ?? '?'} ${step}: ${s.status}${s.error ? ` (${s.error.type}: ${s.error.message})` : ''}`,
    );
  }
  if (view.reason)
    lines.push(
      '',
      `Reason: ${view.reason.step ? `${view.reason.step} ` : ''}${view.reason.type}: ${view.reason.message}`,
    );
  return lines.join('\n');
}
