/** The embedded default transport: one signed HTTP POST per event to the notifications service. */
import type { EventEnvelope } from '../outbox/event';
import { withTraceHeaders } from '../observability/trace-context';
import { TransientPublishError, type Transport } from './transport';
import { SIGNATURE_HEADER, signWebhook, WEBHOOK_PATH } from '../outbox/webhook-signature';

export function createWebhookTransport(options: {
  baseUrl: string;
  secret: string;
  timeoutMs?: number;
  maxInFlight?: number;
}): Transport {
  const url = options.baseUrl.replace(/\/$/, '') + WEBHOOK_PATH;
  return {
    name: 'webhook',
    // Concurrent calls to one receiver: enough to hide the round trip, few enough not to swamp it.
    maxInFlight: options.maxInFlight ?? 16,
    async publish(event: EventEnvelope) {
      const body = JSON.stringify(event);
      const res = await fetch(url, {
        method: 'POST',
        headers: withTraceHeaders({
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(options.secret, body),
        }),
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      // Drain the body so the connection is reused.
      const text = await res.text();
      if (res.ok) return;
      const message = `webhook ${url} answered ${res.status}: ${text.slice(0, 200)}`;
      // The receiver is down, overloaded or not ready to trust us yet: retry. Any other 4xx is a
      // refusal of this event: it counts toward parking.
      if (res.status >= 500 || [401, 408, 429].includes(res.status)) throw new TransientPublishError(message);
      throw new Error(message);
    },
    async close() {},
  };
}
