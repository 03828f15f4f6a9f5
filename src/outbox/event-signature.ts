/**
 * Outbox events on NATS carry the webhook signature scheme (`t=…,v1=HMAC-SHA256("<t>.<body>")`,
 * same secret) in a message header, so the consumer applies only what the relay published:
 * reaching the broker is not enough to make notifications send an email.
 */
import { headers as natsHeaders, type MsgHdrs } from 'nats';
import { signWebhook, verifyWebhook, type SignatureCheck } from './webhook-signature';

/** The NATS header holding the signature of the message body. */
export const EVENT_SIGNATURE_HEADER = 'Outbox-Signature';

/** Headers for a message whose body is `body` (the JSON envelope), signed now. */
export function signedEventHeaders(secret: string, body: string, nowMs = Date.now()): MsgHdrs {
  const h = natsHeaders();
  h.set(EVENT_SIGNATURE_HEADER, signWebhook(secret, body, nowMs));
  return h;
}

/**
 * Checks a message's signature. `maxAgeMs` bounds how old a signature may be: messages wait in
 * the stream legitimately (consumer down), so it is the stream's retention, not the webhooks' 5 minutes.
 */
export function verifyEventSignature(
  secret: string,
  body: string,
  headers: MsgHdrs | undefined,
  maxAgeMs = Number.POSITIVE_INFINITY,
  nowMs = Date.now(),
): SignatureCheck {
  const header = headers?.has(EVENT_SIGNATURE_HEADER) ? headers.get(EVENT_SIGNATURE_HEADER) : undefined;
  return verifyWebhook(secret, body, header || undefined, maxAgeMs, nowMs);
}
