/**
 * A request fingerprint: SHA-256 of method, path and the body in RFC 8785 JSON Canonicalization
 * (the `canonicalize` package): keys sorted by UTF-16 code units, ECMAScript number and string
 * serialisation. For any body JSON.parse produces this is byte for byte what the hand-written
 * canonical JSON before it produced, so keys stored earlier keep their fingerprints.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The canonical JSON of a parsed body; no body (undefined) is `null`. */
export function canonicalJson(value: unknown): string {
  return canonicalize(value) ?? 'null';
}

export function fingerprintOf(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}
