/**
 * `cancelConfirmedTrip`: undoes a trip whose `bookTrip` run already ended CONFIRMED. That run is
 * closed, so a second workflow runs the same compensations, in reverse saga order, naming the trip
 * explicitly (its keys are `<tripId>:<step>`, not this workflow's id).
 */
import { ApplicationFailure, defineQuery, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../shared/failures';
import type { StepName, TripView } from '../shared/trip';
import { compensationStep } from './activity-options';
import { describeFailure } from './failure-info';
import { createProgressPublisher } from './trip-visibility';

// One proxy per call so that each undo carries its own summary in the Web UI.
const compensation = (summary: string) => proxyActivities<Activities>({ ...compensationStep, summary });

/** The end record (trip row + TripCancelled event); like bookTrip's, it never fails the run. */
const recordOutcome = (view: TripView) =>
  compensation(`Record trip ${view.status} (trip row + outbox event)`)
    .recordTripOutcome({ ...view })
    .catch((err: unknown) => log.warn('trip end record failed for good', { status: view.status, error: String(err) }));

/** The view of the trip while it is being cancelled (same shape as bookTrip's `getTrip`). */
export const getCancellation = defineQuery<TripView>('getTrip');

const UNDO: Array<[StepName, (tripId: string) => Promise<unknown>]> = [
  ['payment', (id) => compensation(`Refund payment of ${id} (compensation)`).refundPayment(id)],
  ['car', (id) => compensation(`Cancel car of ${id} (compensation)`).cancelCar(id)],
  ['hotel', (id) => compensation(`Cancel hotel of ${id} (compensation)`).cancelHotel(id)],
  ['flight', (id) => compensation(`Cancel flight of ${id} (compensation)`).cancelFlight(id)],
];

/** The workflow id of the cancellation of a trip: one per trip, so a retried cancel attaches. */
export const cancellationWorkflowId = (tripId: string): string => `cancel-${tripId}`;

/** The trip a cancellation run undoes (the inverse of cancellationWorkflowId). */
export const tripIdOfCancellation = (workflowId: string): string => workflowId.replace(/^cancel-/, '');

export async function cancelConfirmedTrip(confirmed: TripView): Promise<TripView> {
  const view: TripView = {
    ...confirmed,
    status: 'CANCELLING',
    steps: { ...confirmed.steps },
    reason: { type: 'Cancelled', message: 'cancelled by the user after confirmation' },
  };
  setHandler(getCancellation, () => view);
  // TripStatus/TripStep and the live step list, as bookTrip shows them in the Web UI.
  const publish = createProgressPublisher(view);
  publish();
  const failures: string[] = [];
  for (const [step, undo] of UNDO) {
    view.steps[step] = { ...view.steps[step], status: 'COMPENSATING' };
    publish();
    try {
      await undo(confirmed.tripId);
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATED' };
    } catch (err) {
      const error = describeFailure(err);
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATION_FAILED', error };
      failures.push(`${step} (${error.message})`);
    }
    publish();
  }
  if (failures.length > 0) {
    view.status = 'NEEDS_ATTENTION';
    publish();
    await recordOutcome(view);
    throw ApplicationFailure.create({
      type: FailureType.NeedsAttention,
      nonRetryable: true,
      message: `compensation failed for good: ${failures.join('; ')}`,
      details: [view],
    });
  }
  view.status = 'CANCELLED';
  publish();
  await recordOutcome(view);
  return view;
}
