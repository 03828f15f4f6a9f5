/** `Prefer: wait=N` (RFC 7240): how long the caller is willing to wait for a final answer. */

/** Seconds to wait, capped at `maxSeconds`; 0 when the header asks for nothing we honour. */
export function preferredWaitSeconds(header: string | string[] | undefined, maxSeconds: number): number {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    for (const pref of value.split(',')) {
      const m = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(;.*)?$/i.exec(pref);
      if (m) return Math.min(Number(m[1]), maxSeconds);
    }
  }
  return 0;
}
