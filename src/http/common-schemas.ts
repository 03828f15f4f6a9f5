/** Request shapes shared by every booking service's routes. */
import { z } from 'zod';

export const tripIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'tripId must be visible ASCII');

/** Body of a compensation: undo whatever the forward key created. */
export const cancelRequestSchema = z.object({
  tripId: tripIdSchema,
  idempotencyKey: z.string().min(1).max(255),
});

export type CancelOutcome =
  | { outcome: 'TOMBSTONED' | 'NOTHING_TO_CANCEL'; idempotencyKey: string }
  | {
      outcome: 'CANCELLED' | 'ALREADY_CANCELLED' | 'REFUNDED' | 'ALREADY_REFUNDED';
      idempotencyKey: string;
      reservation?: unknown;
      charge?: unknown;
    };
