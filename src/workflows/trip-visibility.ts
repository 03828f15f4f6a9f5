/**
 * What the Temporal Web UI shows of a running trip: typed search attributes (TripStatus,
 * TripStep) upserted at every transition and the live step list as the run's current details.
 */
import { metricMeter, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { TripStatusKey, TripStepKey } from '../shared/search-attributes';
import type { StepName, TripView } from '../shared/trip';
import { isTerminalStatus } from '../shared/trip-status';
import { progressDetails } from '../shared/trip-summary';

/** The step the trip is in: the one whose compensation failed, else the running one, else the one that failed. */
export function currentStep(view: TripView): StepName | undefined {
  const entries = Object.entries(view.steps) as Array<[StepName, TripView['steps'][StepName]]>;
  const find = (status: string) => entries.filter(([, s]) => s.status === status).map(([name]) => name);
  return find('COMPENSATION_FAILED')[0] ?? find('RUNNING')[0] ?? view.reason?.step ?? find('COMPENSATING')[0];
}

/**
 * The saga's own counters, exported with Temporal's runtime metrics (the worker's Prometheus
 * endpoint). Emitted from workflow code through Temporal's meter, so a replay never counts twice.
 */
function countTransition(view: TripView, from: string | undefined): void {
  if (from === undefined) return;
  if (view.status === 'BOOKING' && from === 'PENDING') {
    metricMeter.createCounter('trip_sagas_started', 'sagas', 'Trip sagas that started booking').add(1);
  }
  if (isTerminalStatus(view.status)) {
    metricMeter
      .createCounter('trip_sagas_completed', 'sagas', 'Trip sagas that ended, by final status')
      .add(1, { status: view.status });
  }
  if (view.status === 'COMPENSATED') {
    metricMeter.createCounter('trip_sagas_compensated', 'sagas', 'Trip sagas rolled back after a failed step').add(1);
  }
  if (view.status === 'NEEDS_ATTENTION') {
    for (const [step, s] of Object.entries(view.steps)) {
      if (s.status === 'COMPENSATION_FAILED') {
        metricMeter
          .createCounter('trip_compensation_failures', 'compensations', 'Compensations that failed for good')
          .add(1, { step });
      }
    }
  }
}

/**
 * Returns `publish()`: call it after every change of the view; it upserts only what changed.
 * Search attributes are upserted only when the run was started with TripStatus set (tripStartOptions
 * does): that start proves the namespace has them registered, whereas upserting an unregistered
 * attribute would fail every workflow task (the time-skipping test server registers none).
 */
export function createProgressPublisher(view: TripView): () => void {
  const indexed = workflowInfo().typedSearchAttributes.get(TripStatusKey) !== undefined;
  let status: string | undefined;
  let step: string | undefined;
  let details: string | undefined;
  return () => {
    const nextStep = currentStep(view);
    const updates = [];
    if (view.status !== status) updates.push({ key: TripStatusKey, value: view.status });
    if (nextStep !== undefined && nextStep !== step) updates.push({ key: TripStepKey, value: nextStep });
    if (indexed && updates.length > 0) upsertSearchAttributes(updates);
    if (view.status !== status) countTransition(view, status);
    status = view.status;
    step = nextStep ?? step;
    const nextDetails = progressDetails(view);
    if (nextDetails !== details) setCurrentDetails(nextDetails);
    details = nextDetails;
  };
}
