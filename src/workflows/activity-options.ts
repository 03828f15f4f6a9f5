/** Activity option presets, named for their role in the saga. */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { FailureType, NON_RETRYABLE_FAILURES } from '../shared/failures';

/** A forward step: retried on transient errors for a while; business errors fail at once. */
export const forwardStep: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '300 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  },
};

/**
 * A compensation: retried until it succeeds (no attempt limit, capped backoff). Only a request
 * the service can never accept ends it, and that needs a human (NEEDS_ATTENTION).
 */
export const compensationStep: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [FailureType.InvalidRequest],
  },
};

/**
 * Retries whose backoff is longer than this wait on a workflow timer instead of in the worker:
 * the workflow task then completes, so a cancel, a query or an update gets in between attempts.
 */
const LOCAL_RETRY_THRESHOLD = '2 seconds';

/**
 * `forwardStep` for a step run as a local activity (same retries). While a local activity runs,
 * a cancel or query reaches the workflow only at the workflow task's heartbeat (every 8 s with the
 * default 10 s task timeout); an attempt ends by itself within its HTTP timeout (10 s), so this
 * timeout is only the safety net, longer than two heartbeats so that a cancel sent during a hung
 * attempt gets in before the attempt is given up and retried.
 */
export const forwardLocalStep: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: forwardStep.scheduleToCloseTimeout,
  retry: forwardStep.retry,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
};

/**
 * `compensationStep` as a local activity (a compensation, or the end record): retried until it
 * succeeds; a backoff past the threshold waits on a timer, so an outage of hours is a timer per
 * attempt and the run's progress stays visible between them.
 */
export const compensationLocalStep: LocalActivityOptions = {
  startToCloseTimeout: compensationStep.startToCloseTimeout,
  retry: compensationStep.retry,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
};
