/**
 * One interface over the saga flavours: `startTrip(flavor, …)` and `readTripView(id)`, used by the
 * client script and the trip API alike. Every flavour records its trips in the trip API's trips
 * table (with its name), so a trip is found by id whatever ran it.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { z } from 'zod';
import { NOT_IN_THIS_BUILD, SAGA_FLAVORS, type SagaFlavor } from '../shared/saga-flavor';
import { requestChoreographedTrip } from '../choreography/start-trip';
import { initialView, type TripRequest, type TripView } from '../shared/trip';
import { findTrip, insertTrip } from '../trips/trip-records';
import { isTerminal, readView, startBookTrip, waitForClose } from '../trips/trip-workflows';
import { FlavorUnavailableError, TripIdTakenError } from './errors';
import {
  readTwoPhaseTrip,
  startTwoPhaseTrip,
  TwoPhaseCoordinatorUnreachableError,
  TwoPhaseUnavailableError,
} from '../twophase';

export { DEFAULT_FLAVOR, SAGA_FLAVORS as FLAVORS } from '../shared/saga-flavor';
export type Flavor = SagaFlavor;
export const flavorSchema = z.enum(SAGA_FLAVORS);

export interface FlavorDeps {
  temporal: Client;
  taskQueue: string;
  /** The trip API's database (the trips table); the client opens it on first use. */
  apiDb(): Promise<Knex>;
  /** Where the choreography's events travel; without it a choreographed trip cannot move. */
  natsUrl?: string;
  /** The two-phase-commit coordinator (`npm run coordinator`, TWOPHASE_URL). */
  twophaseUrl?: string;
}

export interface TripToStart {
  tripId: string;
  request: TripRequest;
  /** Who asked (the API's principal); null from the client script. */
  principal: string | null;
}

export interface TripFlavor {
  /** Why this deployment cannot run the flavour, or undefined when it can. */
  unavailableBecause(deps: FlavorDeps): string | undefined;
  /** Starts the trip, or attaches to it when the id was started before; returns whether it started. */
  start(deps: FlavorDeps, trip: TripToStart): Promise<boolean>;
  /** The trip's current view, or undefined when this flavour does not know the id. */
  read(deps: FlavorDeps, tripId: string): Promise<TripView | undefined>;
  /**
   * True when the flavour itself keeps the trips table's view current (the choreography's
   * projection); otherwise a reader saves the view it read back there.
   */
  recordsItsView: boolean;
}

const orchestrated: TripFlavor = {
  unavailableBecause: () => undefined,
  async start(deps, trip) {
    const db = await deps.apiDb();
    const existing = await findTrip(db, trip.tripId);
    if (existing && existing.flavor !== 'orchestrated') throw new TripIdTakenError(trip.tripId, existing.flavor);
    const { started } = await startBookTrip(
      deps.temporal,
      deps.taskQueue,
      trip.tripId,
      trip.request,
      trip.principal ?? undefined,
    );
    await insertTrip(db, { ...trip, status: 'PENDING', flavor: 'orchestrated' });
    return started;
  },
  read: (deps, tripId) => readView(deps.temporal, tripId),
  recordsItsView: false,
};

const choreographed: TripFlavor = {
  unavailableBecause: (deps) =>
    deps.natsUrl
      ? undefined
      : 'choreography is not available: NATS_URL is not set (the services react to each other over NATS JetStream; `npm start` runs a NATS server for you)',
  async start(deps, trip) {
    const why = this.unavailableBecause(deps);
    if (why) throw new FlavorUnavailableError('choreographed', why);
    const { existingFlavor } = await requestChoreographedTrip(await deps.apiDb(), trip);
    if (existingFlavor !== undefined && existingFlavor !== 'choreographed') {
      throw new TripIdTakenError(trip.tripId, existingFlavor);
    }
    return existingFlavor === undefined;
  },
  async read(deps, tripId) {
    const record = await findTrip(await deps.apiDb(), tripId);
    if (!record) return undefined;
    return record.view ?? { ...initialView(tripId), status: record.status };
  },
  recordsItsView: true,
};

/** A flavour this build cannot run: every start says why. */
const unavailable = (flavor: Flavor, why: string): TripFlavor => ({
  unavailableBecause: () => why,
  start: async () => {
    throw new FlavorUnavailableError(flavor, why);
  },
  read: async () => undefined,
  recordsItsView: false,
});

const TWO_PHASE_UNAVAILABLE = 'two-phase commit is not available';

const twoPhase: TripFlavor = {
  unavailableBecause: (deps) =>
    deps.twophaseUrl ? undefined : `${TWO_PHASE_UNAVAILABLE}: no coordinator configured (TWOPHASE_URL)`,
  async start(deps, trip) {
    const why = this.unavailableBecause(deps);
    if (why || !deps.twophaseUrl) throw new FlavorUnavailableError('2pc', why ?? TWO_PHASE_UNAVAILABLE);
    const db = await deps.apiDb();
    const existing = await findTrip(db, trip.tripId);
    if (existing && existing.flavor !== '2pc') throw new TripIdTakenError(trip.tripId, existing.flavor);
    try {
      await startTwoPhaseTrip({ url: deps.twophaseUrl }, trip.tripId, trip.request);
    } catch (err) {
      if (err instanceof TwoPhaseCoordinatorUnreachableError || err instanceof TwoPhaseUnavailableError) {
        throw new FlavorUnavailableError('2pc', `${TWO_PHASE_UNAVAILABLE}: ${err.message}`);
      }
      throw err;
    }
    await insertTrip(db, { ...trip, status: 'PENDING', flavor: '2pc' });
    return existing === undefined;
  },
  read: (deps, tripId) =>
    deps.twophaseUrl ? readTwoPhaseTrip({ url: deps.twophaseUrl }, tripId) : Promise.resolve(undefined),
  recordsItsView: false,
};

/** The flavours, by name. */
export const TRIP_FLAVORS: Record<Flavor, TripFlavor> = {
  orchestrated,
  choreographed,
  '2pc': NOT_IN_THIS_BUILD['2pc'] ? unavailable('2pc', NOT_IN_THIS_BUILD['2pc']) : twoPhase,
};

/** Starts a trip with `flavor`; returns whether it started (false: the id existed, nothing new ran). */
export function startTrip(deps: FlavorDeps, flavor: Flavor, trip: TripToStart): Promise<boolean> {
  return TRIP_FLAVORS[flavor].start(deps, trip);
}

/** Throws FlavorUnavailableError when this deployment cannot run `flavor`. */
export function assertFlavorAvailable(deps: FlavorDeps, flavor: Flavor): void {
  const why = TRIP_FLAVORS[flavor].unavailableBecause(deps);
  if (why) throw new FlavorUnavailableError(flavor, why);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits up to `waitMs` for the trip to end; returns its view then (or as it is at the deadline). */
export async function waitForTripEnd(
  deps: FlavorDeps,
  flavor: Flavor,
  tripId: string,
  waitMs: number,
): Promise<TripView | undefined> {
  if (flavor === 'orchestrated') return waitForClose(deps.temporal, tripId, waitMs);
  const deadline = Date.now() + waitMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const view = await TRIP_FLAVORS[flavor].read(deps, tripId);
    if (!view || isTerminal(view) || Date.now() >= deadline) return view;
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
  }
}

/** The flavour a trip id was started with (`orchestrated` for trips the trips table does not know). */
export async function flavorOf(deps: FlavorDeps, tripId: string): Promise<Flavor> {
  const record = await findTrip(await deps.apiDb(), tripId);
  const flavor = flavorSchema.safeParse(record?.flavor);
  return flavor.success ? flavor.data : 'orchestrated';
}

/** The current view of any trip, whatever flavour runs it; undefined for an unknown id. */
export async function readTripView(deps: FlavorDeps, tripId: string): Promise<{ flavor: Flavor; view?: TripView }> {
  const flavor = await flavorOf(deps, tripId);
  return { flavor, view: await TRIP_FLAVORS[flavor].read(deps, tripId) };
}
