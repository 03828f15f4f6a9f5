/**
 * The coordinator's HTTP surface: POST /trips starts a two-phase trip (idempotent per tripId),
 * GET /trips/:tripId reads it (`?waitMs=` waits for it to settle), GET /stats feeds the compare bench.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createHttpApp } from '../http/app';
import { badRequest, HttpProblem } from '../http/problem';
import { tripIdSchema } from '../http/common-schemas';
import { describeIssues, tripRequestSchema } from '../shared/trip-schema';
import type { TwoPhaseCoordinator } from './coordinator';

const startBody = z.object({
  tripId: tripIdSchema.regex(/^trip-/, 'tripId must start with trip-'),
  request: tripRequestSchema,
});
const MAX_WAIT_MS = 30_000;

export function buildCoordinatorApp(deps: {
  coordinator: TwoPhaseCoordinator;
  logger?: boolean | { level: string };
}): FastifyInstance {
  const { coordinator } = deps;
  const app = createHttpApp({ logger: deps.logger });
  app.get('/healthz', async () => ({ status: 'ok', service: 'twophase-coordinator' }));

  app.post('/trips', async (request, reply) => {
    const parsed = startBody.safeParse(request.body);
    if (!parsed.success) throw badRequest('invalid two-phase trip request', describeIssues(parsed.error));
    const { view, created } = await coordinator.start(parsed.data.tripId, parsed.data.request);
    return reply.code(created ? 202 : 200).send(view);
  });

  app.get<{ Params: { tripId: string }; Querystring: { waitMs?: string } }>('/trips/:tripId', async (request) => {
    const waitMs = Math.min(MAX_WAIT_MS, Math.max(0, Number(request.query.waitMs ?? 0) || 0));
    if (waitMs > 0) await coordinator.settledOrTimeout(request.params.tripId, waitMs);
    const view = await coordinator.view(request.params.tripId);
    if (!view) throw new HttpProblem(404, 'TRIP_NOT_FOUND', 'No such two-phase trip', request.params.tripId);
    return view;
  });

  app.get('/stats', async () => coordinator.stats);
  return app;
}
