/** Activity option presets, named for their role in the saga. */
import type { ActivityOptions } from '@temporalio/workflow';
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
