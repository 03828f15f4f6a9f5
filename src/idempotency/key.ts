/** Parsing of the Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): sf-string or bare token. */

import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../shared/trip-ids';

export const MAX_KEY_LENGTH = MAX_IDEMPOTENCY_KEY_LENGTH;

export type KeyParseResult = { ok: true; key: string } | { ok: false; reason: string };

/** Validates one header value (or the array Node gives for a repeated header). */
export function parseIdempotencyKey(raw: string | string[] | undefined): KeyParseResult {
  if (raw === undefined) return { ok: false, reason: 'the Idempotency-Key header is required' };
  if (Array.isArray(raw)) {
    return raw.length === 1
      ? parseIdempotencyKey(raw[0])
      : { ok: false, reason: 'Idempotency-Key was sent more than once' };
  }
  let value = raw.trim();
  // Node joins repeated unknown headers with ", "; a comma outside quotes means two keys were sent.
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"'))
      return { ok: false, reason: 'Idempotency-Key: unterminated sf-string' };
    value = value.slice(1, -1);
    if (/["\\]/.test(value)) return { ok: false, reason: 'Idempotency-Key: escapes are not accepted in the key' };
  } else if (value.includes(',')) {
    return { ok: false, reason: 'Idempotency-Key was sent more than once' };
  }
  if (value.length === 0) return { ok: false, reason: 'Idempotency-Key must not be empty' };
  if (value.length > MAX_KEY_LENGTH) {
    return { ok: false, reason: `Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters` };
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    return { ok: false, reason: 'Idempotency-Key must be visible ASCII characters only' };
  }
  return { ok: true, key: value };
}
