/** Request shapes shared by every booking service's routes. */
import { z } from 'zod';
import { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_TRIP_ID_LENGTH, VISIBLE_ASCII } from '../shared/trip-ids';

export const tripIdSchema = z
  .string()
  .min(1)
  .max(MAX_TRIP_ID_LENGTH)
  .regex(VISIBLE_ASCII, 'tripId must be visible ASCII');

/** The query of the audit reads (`GET /reservations?tripId=`, `GET /charges?tripId=`). */
export const auditQuerySchema = z.object({ tripId: tripIdSchema });

/** Body of a compensation: undo whatever the forward key created. */
export const cancelRequestSchema = z.object({
  tripId: tripIdSchema,
  idempotencyKey: z.string().min(1).max(MAX_IDEMPOTENCY_KEY_LENGTH),
});

export type CancelOutcome =
  | { outcome: 'TOMBSTONED' | 'NOTHING_TO_CANCEL'; idempotencyKey: string }
  | {
      outcome: 'CANCELLED' | 'ALREADY_CANCELLED' | 'REFUNDED' | 'ALREADY_REFUNDED';
      idempotencyKey: string;
      reservation?: unknown;
      charge?: unknown;
    };
