/** What `npm run compare` needs of each saga flavour, so that one driver measures all three alike. */
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { RunningService } from '../../src/services/booking-service';
import type { TripRequest } from '../../src/shared/trip';

export const FLAVORS = ['orchestrated', 'choreographed', '2pc'] as const;
export type FlavorName = (typeof FLAVORS)[number];

/** One flavour's stack, started on its own database of the compare's PostgreSQL cluster. */
export interface FlavorUnderTest {
  name: FlavorName;
  /** Where the booking services are (the audit endpoints). */
  config: Config;
  /** The database (on the shared cluster) every PostgreSQL handle of this flavour uses. */
  database: string;
  /** The four booking services, in this process. */
  services: RunningService[];
  /** The flavour's own record of trips: the orchestrated end record, the projection, the decision log. */
  tripStateDbs: Knex[];
  /** Handles the driver reads through (their transactions are not the flavour's). */
  observerDbs: Knex[];
  /** Starts the trip and resolves with its terminal status. */
  book(tripId: string, request: TripRequest): Promise<string>;
  /** Network round trips besides HTTP to the services, cumulative (deltas are taken). */
  network(): Promise<Record<string, number>>;
  /** Epoch ms at which the trip's outcome became decided, where the flavour has one point for it. */
  decidedAt?(tripId: string): Promise<number | undefined>;
  /** What the flavour's own engine stored for these trips (Temporal's history), when it has one. */
  engineStorage?(tripIds: string[]): Promise<Record<string, unknown>>;
  /** What its periodic background work costs apart from trips (2PC's recovery pass), if it has any. */
  background?(): Promise<Record<string, unknown>>;
  /** Sets up the SIGKILL scenario (on this stack, or on one of its own). */
  killTarget(): Promise<KillTarget>;
  stop(): Promise<void>;
}

/** One flavour's SIGKILL scenario: a victim process, killed mid-trip and started again. */
export interface KillTarget {
  victim: string;
  config: Config;
  /** The database the trip's rows live in (for the lock probes). */
  databaseUrl: string;
  /** Starts the trip without waiting for it. */
  start(tripId: string, request: TripRequest): Promise<void>;
  /**
   * Kills the victim mid-trip: at once when `when` is `flight-visible` (the driver calls it as soon as
   * the flight is booked), or waits for the victim to kill itself (`self`, 2PC's crash hook).
   */
  when: 'flight-visible' | 'self';
  kill(): Promise<void>;
  /** The trip's status without waiting (undefined while nobody can tell). */
  status(tripId: string): Promise<string | undefined>;
  /** Starts the replacement; resolves once it serves. */
  restart(): Promise<void>;
  waitForEnd(tripId: string): Promise<string>;
  /** The outcome the trip must reach. */
  expected: string;
  notes: Record<string, unknown>;
  stop(): Promise<void>;
}
