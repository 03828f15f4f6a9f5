/** Validation of the trip request (docs/architecture.md), shared by the client script, the trip API and the services. */
import { z } from 'zod';
import type { TripRequest } from './trip';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    {
      message: 'must be a real calendar date',
    },
  )
  // What the refinement checks, said in the OpenAPI description (JSON Schema's `date` format).
  .meta({ format: 'date' });
const code = (label: string) =>
  z
    .string()
    .min(1)
    .max(32)
    .regex(/^[A-Za-z0-9-]+$/, `${label} must be letters, digits and dashes`);

export const flightSchema = z.object({
  flightNumber: code('flightNumber'),
  date: isoDate,
  seats: z.number().int().min(1).max(9),
});
export const hotelSchema = z
  .object({ hotelId: code('hotelId'), checkIn: isoDate, checkOut: isoDate, rooms: z.number().int().min(1).max(9) })
  .refine((h) => h.checkOut > h.checkIn, { message: 'checkOut must be after checkIn', path: ['checkOut'] });
export const carSchema = z
  .object({ location: code('location'), pickUp: isoDate, dropOff: isoDate })
  .refine((c) => c.dropOff >= c.pickUp, { message: 'dropOff must not be before pickUp', path: ['dropOff'] });
export const paymentSchema = z.object({
  token: z
    .string()
    .min(1)
    .max(64)
    .regex(/^tok_[A-Za-z0-9_]+$/, 'token must look like tok_…'),
  amountCents: z.number().int().positive().max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD'),
});

export const tripRequestSchema = z
  .object({
    customerId: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.@-]+$/, 'customerId has characters that are not allowed'),
    flight: flightSchema,
    hotel: hotelSchema,
    car: carSchema,
    payment: paymentSchema,
  })
  .strict();

/** Human-readable list of what is wrong, one line a field. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
}

/** Parses a trip request or throws an Error listing every problem. */
export function parseTripRequest(input: unknown): TripRequest {
  const parsed = tripRequestSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid trip request:\n  ${describeIssues(parsed.error).join('\n  ')}`);
  return parsed.data;
}
