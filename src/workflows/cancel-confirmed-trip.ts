/**
 * `cancelConfirmedTrip`: undoes a trip whose `bookTrip` run already ended CONFIRMED. That run is
 * closed, so a second workflow runs the same compensations, in reverse saga order, naming the trip
 * explicitly (its keys are `<tripId>:<step>`, not this workflow's id).
 */
import { ApplicationFailure, defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType } from '../shared/failures';
import { STEPS, type StepName, type TripView } from '../shared/trip';
import { compensationStep } from './activity-options';
import { Compensations, trackedUndo } from './compensations';
import { recordOutcome } from './end-record';
import { describeFailure } from './failure-info';
import { createProgressPublisher } from './trip-visibility';

// One proxy per call so that each undo carries its own summary in the Web UI.
const compensation = (summary: string) => proxyActivities<Activities>({ ...compensationStep, summary });

/** The view of the trip while it is being cancelled (same shape as bookTrip's `getTrip`). */
export const getCancellation = defineQuery<TripView>('getTrip');

const UNDO: Record<StepName, (tripId: string) => Promise<unknown>> = {
  flight: (id) => compensation(`Cancel flight of ${id} (compensation)`).cancelFlight(id),
  hotel: (id) => compensation(`Cancel hotel of ${id} (compensation)`).cancelHotel(id),
  car: (id) => compensation(`Cancel car of ${id} (compensation)`).cancelCar(id),
  payment: (id) => compensation(`Refund payment of ${id} (compensation)`).refundPayment(id),
};

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
  // The same compensation stack as bookTrip: reverse saga order, out of cancellation's reach.
  const saga = new Compensations();
  for (const step of STEPS)
    saga.add(
      step,
      trackedUndo(view, step, publish, () => UNDO[step](confirmed.tripId)),
    );
  const failures = (await saga.runAll()).map((f) => `${f.name} (${describeFailure(f.error).message})`);
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
