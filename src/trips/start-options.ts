/**
 * The one way a trip's run is started (client script, trip API, tests): workflow id, task queue,
 * the typed search attributes the Web UI filters on, a summary and details for the UI, and a
 * memo with the request minus card data (only the payment token's last characters) and the
 * principal who asked for it, so that every writer of the trips row knows the owner.
 */
import { TypedSearchAttributes } from '@temporalio/common';
import { CustomerIdKey, TripStatusKey } from '../shared/search-attributes';
import { stepSummaries } from '../shared/saga-steps';
import { cancellationWorkflowId, type TripRequest, type TripView } from '../shared/trip';
import { assertValidWorkflowId } from '../shared/trip-ids';
import { formatMoney, nightsBetween, redactedRequest, tripSummary } from '../shared/trip-summary';

/**
 * The request as the memo shows it: everything but the payment token, of which only the end;
 * and the principal the trip belongs to (absent for trips booked with the client script).
 */
export function tripMemo(request: TripRequest, principal?: string) {
  return { request: redactedRequest(request), ...(principal !== undefined ? { principal } : {}) };
}

/** The run's static details (Temporal markdown): who, what, and what happens on failure. */
export function tripDetails(request: TripRequest): string {
  const steps = stepSummaries(request);
  const nights = nightsBetween(request.hotel.checkIn, request.hotel.checkOut);
  return [
    `**Trip for ${request.customerId}**: ${nights} night${nights === 1 ? '' : 's'}, ${formatMoney(request.payment.amountCents, request.payment.currency)}`,
    '',
    'Steps, in order:',
    ...Object.values(steps).map((s, i) => `${i + 1}. ${s.forward}`),
    '',
    'If a step fails or the trip is cancelled, the steps already done are undone in reverse order (activities marked "(compensation)"). TripStatus NEEDS_ATTENTION means an undo failed for good.',
  ].join('\n');
}

/**
 * Start options for `bookTrip`: pass them with `args: [request]` to `client.workflow.start`.
 * Throws TripIdError for a workflow id the services would refuse, so no start path can skip it.
 */
export function tripStartOptions(request: TripRequest, workflowId: string, taskQueue: string, principal?: string) {
  return {
    workflowId: assertValidWorkflowId(workflowId),
    taskQueue,
    typedSearchAttributes: new TypedSearchAttributes([
      { key: TripStatusKey, value: 'PENDING' },
      { key: CustomerIdKey, value: request.customerId },
    ]),
    staticSummary: tripSummary(request),
    staticDetails: tripDetails(request),
    memo: tripMemo(request, principal),
  };
}

/** Start options for `cancelConfirmedTrip`: one run per trip, listed under TripStatus in the UI. */
export function cancellationStartOptions(confirmed: TripView, taskQueue: string) {
  return {
    workflowId: cancellationWorkflowId(confirmed.tripId),
    taskQueue,
    typedSearchAttributes: new TypedSearchAttributes([{ key: TripStatusKey, value: 'CANCELLING' }]),
    staticSummary: `Cancel confirmed trip ${confirmed.tripId} (refund included)`,
  };
}
