/**
 * Failure types shared by the activity side (which throws them) and the workflow side (which
 * lists them as non-retryable and reports them). Pure: bundled into the workflow sandbox.
 */
export const FailureType = {
  /** The service has no inventory left for the request. */
  SoldOut: 'SoldOutError',
  /** The card was declined. */
  PaymentDeclined: 'PaymentDeclinedError',
  /** The service refused the request as malformed or unknown (a bug or bad trip request). */
  InvalidRequest: 'InvalidRequestError',
  /** A compensation already ran for this key, so the forward request is refused for good. */
  Tombstoned: 'TombstonedError',
  /**
   * The forward request's key was undone (cancelled or refunded) since it succeeded: this trip id
   * was used before, so the saga must not pretend to book it again.
   */
  IdempotencyKeyUndone: 'IdempotencyKeyUndoneError',
  /** A compensation can never succeed: a human must look. */
  NeedsAttention: 'NeedsAttentionError',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Errors that retrying cannot fix: they start compensation at once. */
export const NON_RETRYABLE_FAILURES: string[] = [
  FailureType.SoldOut,
  FailureType.PaymentDeclined,
  FailureType.InvalidRequest,
  FailureType.Tombstoned,
  FailureType.IdempotencyKeyUndone,
];

/**
 * The refusals a service answers the same way for the same request every time (its stored
 * response for the key): a step that got one was not booked by any attempt.
 */
export const BUSINESS_REFUSALS: string[] = [
  FailureType.SoldOut,
  FailureType.PaymentDeclined,
  FailureType.InvalidRequest,
];

/** Business error codes the services answer with (problem+json `code`), mapped to failure types. */
export const ERROR_CODE_TO_FAILURE: Record<string, FailureType> = {
  SOLD_OUT: FailureType.SoldOut,
  PAYMENT_DECLINED: FailureType.PaymentDeclined,
  TOMBSTONED: FailureType.Tombstoned,
  IDEMPOTENCY_KEY_UNDONE: FailureType.IdempotencyKeyUndone,
};
