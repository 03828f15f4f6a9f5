/**
 * `cancelConfirmedTrip`: undoes a trip whose `bookTrip` run already ended CONFIRMED. That run is
 * closed, so a second workflow runs the same compensations, in reverse saga order, naming the trip
 * explicitly (its keys are `<tripId>:<step>`, not this workflow's id).
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../shared/failures';
import type { StepName, TripView } from '../shared/trip';
import { compensationStep } from './activity-options';
import { describeFailure } from './failure-info';

const compensation = proxyActivities<Activities>(compensationStep);

/** The end record (trip row + TripCancelled event); like bookTrip's, it never fails the run. */
const recordOutcome = (view: TripView) => compensation.recordTripOutcome({ ...view }).catch(() => undefined);

/** The view of the trip while it is being cancelled (same shape as bookTrip's `getTrip`). */
export const getCancellation = defineQuery<TripView>('getTrip');

const UNDO: Array<[StepName, (tripId: string) => Promise<unknown>]> = [
  ['payment', (id) => compensation.refundPayment(id)],
  ['car', (id) => compensation.cancelCar(id)],
  ['hotel', (id) => compensation.cancelHotel(id)],
  ['flight', (id) => compensation.cancelFlight(id)],
];

/** The workflow id of the cancellation of a trip: one per trip, so a retried cancel attaches. */
export const cancellationWorkflowId = (tripId: string): string => `cancel-${tripId}`;

export async function cancelConfirmedTrip(confirmed: TripView): Promise<TripView> {
  const view: TripView = {
    ...confirmed,
    status: 'CANCELLING',
    steps: { ...confirmed.steps },
    reason: { type: 'Cancelled', message: 'cancelled by the user after confirmation' },
  };
  setHandler(getCancellation, () => view);
  const failures: string[] = [];
  for (const [step, undo] of UNDO) {
    view.steps[step] = { ...view.steps[step], status: 'COMPENSATING' };
    try {
      await undo(confirmed.tripId);
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATED' };
    } catch (err) {
      const error = describeFailure(err);
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATION_FAILED', error };
      failures.push(`${step} (${error.message})`);
    }
  }
  if (failures.length > 0) {
    view.status = 'NEEDS_ATTENTION';
    await recordOutcome(view);
    throw ApplicationFailure.create({
      type: FailureType.NeedsAttention,
      nonRetryable: true,
      message: `compensation failed for good: ${failures.join('; ')}`,
      details: [view],
    });
  }
  view.status = 'CANCELLED';
  await recordOutcome(view);
  return view;
}
