/**
 * The three inventory services (flight, hotel, car) share one model: a resource with a capacity
 * per day, reserved for a range of days. This file says how each maps a request onto it.
 */
import { z } from 'zod';
import { carSchema, flightSchema, hotelSchema } from '../../shared/trip-schema';

export type InventoryKind = 'flight' | 'hotel' | 'car';

export interface InventoryCatalog<T> {
  kind: InventoryKind;
  /** The request body without tripId. */
  schema: z.ZodType<T>;
  resourceOf(req: T): string;
  /** The days the request occupies (nights for a hotel). */
  daysOf(req: T): string[];
  quantityOf(req: T): number;
  /** What a person calls the resource, for messages ("flight UA100"). */
  label(req: T): string;
  seed: Array<{ id: string; capacityPerDay: number }>;
}

const DAY_MS = 86_400_000;
const MAX_DAYS = 60;

/** ISO dates from `start` (inclusive) to `end` (exclusive); at least `start` itself. */
export function dayRange(start: string, end: string): string[] {
  const days: string[] = [];
  for (
    let t = Date.parse(`${start}T00:00:00Z`);
    t < Date.parse(`${end}T00:00:00Z`) && days.length <= MAX_DAYS;
    t += DAY_MS
  ) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days.length > 0 ? days : [start];
}

export const SEED_CAPACITY = 100_000;

/** The seeded resources: each of `inStock` with SEED_CAPACITY a day, and `soldOut` (a failure trigger) with none. */
const seeded = (inStock: string[], soldOut: string): InventoryCatalog<unknown>['seed'] => [
  ...inStock.map((id) => ({ id, capacityPerDay: SEED_CAPACITY })),
  { id: soldOut, capacityPerDay: 0 },
];

export const flightCatalog: InventoryCatalog<z.infer<typeof flightSchema>> = {
  kind: 'flight',
  schema: flightSchema,
  resourceOf: (r) => r.flightNumber,
  daysOf: (r) => [r.date],
  quantityOf: (r) => r.seats,
  label: (r) => `flight ${r.flightNumber} on ${r.date}`,
  seed: seeded(['UA100', 'UA200', 'DL300'], 'SOLDOUT1'),
};

export const hotelCatalog: InventoryCatalog<z.infer<typeof hotelSchema>> = {
  kind: 'hotel',
  schema: hotelSchema,
  resourceOf: (r) => r.hotelId,
  daysOf: (r) => dayRange(r.checkIn, r.checkOut),
  quantityOf: (r) => r.rooms,
  label: (r) => `hotel ${r.hotelId} from ${r.checkIn} to ${r.checkOut}`,
  seed: seeded(['H-NYC-1', 'H-SFO-1'], 'H-FULL'),
};

export const carCatalog: InventoryCatalog<z.infer<typeof carSchema>> = {
  kind: 'car',
  schema: carSchema,
  resourceOf: (r) => r.location,
  daysOf: (r) => dayRange(r.pickUp, r.dropOff),
  quantityOf: () => 1,
  label: (r) => `car at ${r.location} from ${r.pickUp} to ${r.dropOff}`,
  seed: seeded(['JFK', 'SFO'], 'NOWHERE'),
};

export const CATALOGS = { flight: flightCatalog, hotel: hotelCatalog, car: carCatalog } as const;
