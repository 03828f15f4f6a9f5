/**
 * Webhook signatures: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the scheme
 * payment providers use. The timestamp is inside the MAC, so a captured request cannot be
 * replayed once it leaves the tolerance window (and inside it, the inbox drops the repeat).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Where the notifications service receives signed outbox webhooks. */
export const WEBHOOK_PATH = '/webhooks/outbox';

export const SIGNATURE_HEADER = 'x-outbox-signature';

export function signWebhook(secret: string, body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifyWebhook(
  secret: string,
  body: string,
  header: string | undefined,
  toleranceMs: number,
  nowMs = Date.now(),
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing signature' };
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'malformed signature' };
  if (Math.abs(nowMs - t * 1000) > toleranceMs) return { ok: false, reason: 'timestamp outside the replay window' };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'bad signature' };
  return { ok: true };
}
