/** Bearer-token authentication: `Authorization: Bearer <token>` → the caller's principal. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthorized } from './problems';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the auth hook on every authenticated route. */
    principal: string;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Looks a token up by comparing digests in constant time, so response timing leaks nothing. */
export function principalFor(tokens: Map<string, string>, token: string): string | undefined {
  const wanted = digest(token);
  let found: string | undefined;
  for (const [candidate, principal] of tokens) {
    if (timingSafeEqual(digest(candidate), wanted)) found = principal;
  }
  return found;
}

/** Adds the hook to `app` (an encapsulated scope: routes outside it stay public). */
export function requireBearer(app: FastifyInstance, tokens: Map<string, string>): void {
  app.decorateRequest('principal', '');
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw unauthorized('missing Authorization: Bearer <token>');
    const principal = principalFor(tokens, match[1]);
    if (!principal) throw unauthorized('unknown token');
    request.principal = principal;
  });
}
