/** The trip resource: POST /trips, GET /trips/:tripId, POST /trips/:tripId/cancel, GET /trips. */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import type { IdempotencyStore } from '../idempotency/store';
import { describeIssues, tripRequestSchema } from '../shared/trip-schema';
import { initialView, type TripView } from '../shared/trip';
import { isBookingStatus, isTerminalStatus, isTripStatus, TRIP_STATUSES } from '../shared/trip-status';
import { findTrip, insertTrip, listTrips, type TripRecord, updateTripView } from '../trips/trip-records';
import { jsonResponse, requestKey, runIdempotent } from './idempotent-request';
import { preferredWaitSeconds } from './prefer';
import { cancelNotAccepted, tripAlreadyEnded, tripNotFound, validationFailed } from './problems';
import {
  cancelAnyTrip,
  endedByCancel,
  isTerminal,
  readCancellation,
  readView,
  startBookTrip,
  tripIdFor,
  waitForClose,
} from '../trips/trip-workflows';

export interface TripRouteDeps {
  db: Knex;
  store: IdempotencyStore;
  temporal: Client;
  taskQueue: string;
  /** The longest `Prefer: wait` honoured (kept below the idempotency lock timeout). */
  maxWaitSeconds: number;
}

const DEFAULT_CANCEL_WAIT_SECONDS = 10;

const links = (tripId: string) => ({ self: `/trips/${tripId}`, cancel: `/trips/${tripId}/cancel` });
const resource = (view: TripView) => ({ ...view, links: links(view.tripId) });

export function registerTripRoutes(app: FastifyInstance, deps: TripRouteDeps): void {
  const { db, store, temporal, taskQueue } = deps;

  /** The freshest view of a trip: the stored one once it ended, else Temporal's (saved back). */
  async function currentView(record: TripRecord): Promise<TripView> {
    const stored = record.view ?? { ...initialView(record.tripId), status: record.status };
    if (isTerminalStatus(record.status)) return stored;
    const live =
      (record.status === 'CANCELLING' ? await readCancellation(temporal, record.tripId) : undefined) ??
      (await readView(temporal, record.tripId));
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
    const parsed = tripRequestSchema.safeParse(request.body);
    if (!parsed.success) throw validationFailed(describeIssues(parsed.error));
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
          const now = await currentView(existing);
          return jsonResponse(isTerminal(now) ? 201 : 202, resource(now), headers);
        }
        await startBookTrip(temporal, taskQueue, tripId, parsed.data);
        await insertTrip(db, { tripId, principal: request.principal, request: parsed.data, status: 'PENDING' });
        let view = initialView(tripId);
        if (waitSeconds > 0) {
          headers['preference-applied'] = `wait=${waitSeconds}`;
          view = (await waitForClose(temporal, tripId, waitSeconds * 1000)) ?? view;
          await updateTripView(db, view);
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

  app.get<{ Querystring: { status?: string } }>('/trips', async (request) => {
    const status = request.query.status;
    if (status !== undefined && !isTripStatus(status)) {
      throw validationFailed([`status: must be one of ${TRIP_STATUSES.join(', ')}`]);
    }
    const mine = await listTrips(db, { principal: request.principal, limit: 200 });
    // Refresh the unsettled ones first, so the filter applies to current statuses.
    const views = await Promise.all(mine.map((r) => currentView(r)));
    const trips = views.filter((v) => status === undefined || v.status === status).map(resource);
    return { trips };
  });
}
