/**
 * The JSON body parser of every app: Fastify's own (prototype-poisoning checks included) plus a
 * nesting bound, checked without recursion before anything walks the value (the request
 * fingerprint, validation), so a deeply nested body is a 400, never a stack overflow.
 */
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem';

/** The deepest nesting of arrays/objects accepted in a JSON body (a trip request needs 2). */
export const MAX_JSON_DEPTH = 32;

/** Whether `value` nests arrays/objects deeper than `max` levels (iterative: any depth is safe). */
export function exceedsJsonDepth(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

export const jsonTooDeep = () =>
  new HttpProblem({
    status: 400,
    code: 'JSON_TOO_DEEP',
    title: 'The JSON body is nested too deeply',
    detail: `arrays and objects may nest at most ${MAX_JSON_DEPTH} levels`,
  });

/** Replaces the app's application/json parser with the bounded one. */
export function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parse(request, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (exceedsJsonDepth(value)) return done(jsonTooDeep(), undefined);
      return done(null, value);
    });
  });
}
