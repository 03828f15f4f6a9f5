/** The trip resource: POST /trips, GET /trips/:tripId, POST /trips/:tripId/cancel, GET /trips. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { IdempotencyStore } from '../idempotency/store';
import { describeIssues, tripRequestSchema } from '../shared/trip-schema';
import { initialView, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus, TRIP_STATUSES } from '../shared/trip-status';
import { claimOwnerless, findTrip, listTrips, type TripRecord, updateTripView } from '../trips/trip-records';
import {
  DEFAULT_FLAVOR,
  FLAVORS,
  FlavorUnavailableError,
  flavorSchema,
  startTrip,
  TRIP_FLAVORS,
  TripIdTakenError,
  waitForTripEnd,
  type FlavorDeps,
} from '../flavors';
import { jsonResponse, requestKey, runIdempotent } from './idempotent-request';
import { mapBounded } from './map-bounded';
import { decodeCursor, encodeCursor } from './trip-cursor';
import { preferredWaitSeconds } from './prefer';
import {
  cancelNotAccepted,
  cancelNotSupported,
  flavorUnavailable,
  tripAlreadyEnded,
  tripIdTaken,
  tripNotFound,
  validationFailed,
} from './problems';
import {
  cancelAnyTrip,
  endedByCancel,
  isTerminal,
  readCancellation,
  readView,
  tripIdFor,
} from '../trips/trip-workflows';

export interface TripRouteDeps {
  db: Knex;
  store: IdempotencyStore;
  temporal: Client;
  taskQueue: string;
  /** NATS JetStream, which choreographed trips need. */
  natsUrl?: string;
  /** The two-phase-commit coordinator, which 2pc trips need. */
  twophaseUrl?: string;
  /** The longest `Prefer: wait` honoured (kept below the idempotency lock timeout). */
  maxWaitSeconds: number;
}

const DEFAULT_CANCEL_WAIT_SECONDS = 10;
/** Statuses the stored row may hold while the run has already moved on (refreshed from Temporal). */
const UNSETTLED = TRIP_STATUSES.filter((s) => !isTerminalStatus(s));
/** GET /trips page sizes, and how many unsettled trips of a page are read from Temporal at once. */
export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 200;
const REFRESH_CONCURRENCY = 4;

/** The query of `GET /trips`. */
export const listQuerySchema = z.object({
  status: z.enum(TRIP_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(LIST_MAX_LIMIT).default(LIST_DEFAULT_LIMIT),
  cursor: z.string().max(1024).optional(),
});

const links = (tripId: string) => ({ self: `/trips/${tripId}`, cancel: `/trips/${tripId}/cancel` });
const resource = (view: TripView) => ({ ...view, links: links(view.tripId) });

export function registerTripRoutes(app: FastifyInstance, deps: TripRouteDeps): void {
  const { db, store, temporal, taskQueue } = deps;
  const flavors: FlavorDeps = {
    temporal,
    taskQueue,
    apiDb: async () => db,
    natsUrl: deps.natsUrl,
    twophaseUrl: deps.twophaseUrl,
  };

  /**
   * The freshest view of a trip: the stored one once it ended or when its flavour keeps it current
   * itself (the choreography's projection); else the flavour's own (Temporal, the 2PC
   * coordinator), saved back.
   */
  async function currentView(record: TripRecord): Promise<TripView> {
    const stored = record.view ?? { ...initialView(record.tripId), status: record.status };
    if (isTerminalStatus(record.status)) return stored;
    const flavor = flavorSchema.safeParse(record.flavor);
    if (!flavor.success || TRIP_FLAVORS[flavor.data].recordsItsView) return stored;
    const live =
      flavor.data === 'orchestrated'
        ? ((record.status === 'CANCELLING' ? await readCancellation(temporal, record.tripId) : undefined) ??
          (await readView(temporal, record.tripId)))
        : await TRIP_FLAVORS[flavor.data].read(flavors, record.tripId);
    if (!live) return stored;
    if (live.status !== record.status || JSON.stringify(live) !== JSON.stringify(record.view))
      await updateTripView(db, live);
    return live;
  }

  async function ownTrip(request: FastifyRequest<{ Params: { tripId: string } }>): Promise<TripRecord> {
    const record = await findTrip(db, request.params.tripId);
    // Another principal's trip is indistinguishable from a missing one.
    if (!record || record.principal !== request.principal) throw tripNotFound(request.params.tripId);
    return record;
  }

  app.post('/trips', async (request, reply) => {
    const key = requestKey(request, true) as string;
    const { flavor: flavorField, ...body } = (request.body ?? {}) as Record<string, unknown>;
    const flavor = flavorSchema.safeParse(flavorField ?? DEFAULT_FLAVOR);
    if (!flavor.success) throw validationFailed([`flavor: must be one of ${FLAVORS.join(', ')}`]);
    const parsed = tripRequestSchema.safeParse(typeof request.body === 'object' ? body : request.body);
    if (!parsed.success) throw validationFailed(describeIssues(parsed.error));
    const why = TRIP_FLAVORS[flavor.data].unavailableBecause(flavors);
    if (why) throw flavorUnavailable(flavor.data, why);
    const waitSeconds = preferredWaitSeconds(request.headers.prefer, deps.maxWaitSeconds);
    return runIdempotent(request, reply, {
      store,
      principal: request.principal,
      key,
      execute: async () => {
        const tripId = tripIdFor(request.principal, key);
        const headers: Record<string, string> = { location: `/trips/${tripId}` };
        // A key reused after its record was purged, or taken over: that trip exists (the trips
        // table is never purged), so start nothing and answer it as it is now.
        const existing = await findTrip(db, tripId);
        if (existing) {
          // Written without its owner (by a worker that did not know it): the owner's retry repairs it.
          if (existing.principal === null) await claimOwnerless(db, tripId, request.principal);
          const now = await currentView(existing);
          return jsonResponse(isTerminal(now) ? 201 : 202, resource(now), headers);
        }
        try {
          await startTrip(flavors, flavor.data, { tripId, principal: request.principal, request: parsed.data });
        } catch (err) {
          if (err instanceof TripIdTakenError) throw tripIdTaken(tripId, err.flavor);
          // 2pc finds out only when it asks its coordinator.
          if (err instanceof FlavorUnavailableError) throw flavorUnavailable(err.flavor, err.why);
          throw err;
        }
        let view = initialView(tripId);
        if (waitSeconds > 0) {
          headers['preference-applied'] = `wait=${waitSeconds}`;
          view = (await waitForTripEnd(flavors, flavor.data, tripId, waitSeconds * 1000)) ?? view;
          if (!TRIP_FLAVORS[flavor.data].recordsItsView) await updateTripView(db, view);
        }
        return jsonResponse(isTerminal(view) ? 201 : 202, resource(view), headers);
      },
    });
  });

  app.get<{ Params: { tripId: string } }>('/trips/:tripId', async (request) =>
    resource(await currentView(await ownTrip(request))),
  );

  app.post<{ Params: { tripId: string } }>('/trips/:tripId/cancel', async (request, reply) => {
    const key = requestKey(request, false);
    const record = await ownTrip(request);
    if (record.flavor !== 'orchestrated') throw cancelNotSupported(record.tripId, record.flavor);
    const waitSeconds =
      preferredWaitSeconds(request.headers.prefer, deps.maxWaitSeconds) ||
      Math.min(DEFAULT_CANCEL_WAIT_SECONDS, deps.maxWaitSeconds);
    const waitMs = waitSeconds * 1000;
    return runIdempotent(request, reply, {
      store,
      principal: request.principal,
      key,
      execute: async () => {
        const view = await cancelAnyTrip(temporal, taskQueue, await currentView(record), waitMs);
        // Still booking: no worker took the cancellation in time (a 5xx, so a retry runs again).
        if (isBookingStatus(view.status)) throw cancelNotAccepted(record.tripId);
        if (!endedByCancel(view)) throw tripAlreadyEnded(record.tripId, view.status);
        await updateTripView(db, view);
        return jsonResponse(isTerminal(view) ? 200 : 202, resource(view));
      },
    });
  });

  app.get('/trips', async (request) => {
    const query = listQuerySchema.safeParse(request.query);
    if (!query.success) {
      throw validationFailed(
        query.error.issues.map((i) =>
          i.path[0] === 'status'
            ? `status: must be one of ${TRIP_STATUSES.join(', ')}`
            : `${i.path.join('.')}: ${i.path[0] === 'limit' ? `must be a whole number from 1 to ${LIST_MAX_LIMIT}` : i.message}`,
        ),
      );
    }
    const { status, limit } = query.data;
    const after = query.data.cursor === undefined ? undefined : decodeCursor(query.data.cursor);
    if (query.data.cursor !== undefined && !after) throw validationFailed(['cursor: not a cursor this API gave out']);
    // In SQL: rows stored with the wanted status, and the unsettled ones that may have reached it.
    const statuses = status === undefined ? undefined : [...new Set([status, ...UNSETTLED])];
    const rows = await listTrips(db, { principal: request.principal, statuses, limit: limit + 1, after });
    const page = rows.slice(0, limit);
    // Only unsettled rows cost Temporal calls, a few at a time.
    const views = await mapBounded(page, REFRESH_CONCURRENCY, (r) => currentView(r));
    const trips = views.filter((v) => status === undefined || v.status === status).map(resource);
    const last = page[page.length - 1];
    if (rows.length <= limit || !last) return { trips, links: {} };
    const next = new URLSearchParams({
      ...(status ? { status } : {}),
      limit: String(limit),
      cursor: encodeCursor({ createdAt: last.createdAt, tripId: last.tripId }),
    });
    return { trips, links: { next: `/trips?${next.toString()}` } };
  });
}
