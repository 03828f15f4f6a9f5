/**
 * The notifications service's HTTP side: the signed webhook the relay posts events to (the
 * embedded transport), and `GET /emails?tripId=`, the audit of what was "sent".
 */
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import { SIGNATURE_HEADER, verifyWebhook, WEBHOOK_PATH } from '../../outbox/webhook-signature';
import { describeIssues } from '../../shared/trip-schema';
import { createHttpApp } from '../../http/app';
import { tripIdSchema } from '../../http/common-schemas';
import { exceedsJsonDepth, jsonTooDeep } from '../../http/json-body';
import { badRequest, HttpProblem } from '../../http/problem';
import { withApplySpan } from '../../inbox/apply-span';
import { applyEvent, envelopeSchema } from './apply-event';

export interface NotificationsDeps {
  db: Knex;
  webhookSecret: string;
  webhookToleranceMs: number;
  /** Where TripNeedsAttention is emailed (config OPS_EMAIL). */
  opsEmail?: string;
  logger?: boolean | { level: string };
}

interface EmailRow {
  id: string;
  event_id: string;
  trip_id: string;
  kind: string;
  recipient: string;
  subject: string;
  body: string;
  created_at: number;
}

export function buildNotificationsApp(deps: NotificationsDeps): FastifyInstance {
  const app = createHttpApp({ logger: deps.logger, bodyLimit: 256 * 1024 });
  app.get('/healthz', async () => ({ status: 'ok', service: 'notifications' }));

  // The signature covers the exact bytes sent, so this route reads the body as a raw string.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post(WEBHOOK_PATH, async (request) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const header = request.headers[SIGNATURE_HEADER];
      const check = verifyWebhook(
        deps.webhookSecret,
        raw,
        Array.isArray(header) ? header[0] : header,
        deps.webhookToleranceMs,
      );
      if (!check.ok)
        throw new HttpProblem({
          status: 401,
          code: 'BAD_SIGNATURE',
          title: 'Webhook signature rejected',
          detail: check.reason,
        });
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw badRequest('body is not JSON');
      }
      if (exceedsJsonDepth(json)) throw jsonTooDeep();
      const event = envelopeSchema.safeParse(json);
      if (!event.success) throw badRequest('invalid event envelope', describeIssues(event.error));
      const outcome = await withApplySpan(event.data, undefined, () =>
        applyEvent(deps.db, event.data, { opsEmail: deps.opsEmail }),
      );
      return { eventId: event.data.id, outcome };
    });
  });

  app.get('/emails', async (request) => {
    const query = z.object({ tripId: tripIdSchema }).safeParse(request.query);
    if (!query.success) throw badRequest('tripId query parameter is required', describeIssues(query.error));
    const rows = await deps.db<EmailRow>('emails').where({ trip_id: query.data.tripId }).orderBy('created_at');
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      tripId: r.trip_id,
      kind: r.kind,
      to: r.recipient,
      subject: r.subject,
      body: r.body,
      sentAt: new Date(Number(r.created_at)).toISOString(),
    }));
  });
  return app;
}
