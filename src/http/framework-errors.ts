/**
 * Every error the framework or Node's HTTP parser raises, answered as a problem document: bad
 * JSON, wrong Content-Type, body too large, a URL that does not decode, an unknown route (404),
 * a known route with another method (405 + Allow), a path parameter that is not visible ASCII,
 * and requests Node cannot parse at all (bad method, header overflow). Nothing falls back to
 * Fastify's own bodies, and a 5xx never carries the error's message.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, PROBLEM_CONTENT_TYPE, sendProblem } from './problem';

/** Fastify error codes → our stable code and title (status comes from the error). */
const FASTIFY_CODES: Record<string, { code: string; title: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    title: 'Only application/json bodies are accepted',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_CONTENT_LENGTH', title: 'Content-Length does not match the body' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', title: 'The body is too large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'MALFORMED_JSON', title: 'The body is not valid JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON', title: 'The body is not valid JSON' },
  FST_ERR_BAD_URL: { code: 'BAD_URL', title: 'The URL is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', title: 'A path segment is too long' },
};

const codeOfStatus = (status: number) => (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/\W+/g, '_');

/** The problem for any error thrown while handling a request. */
export function problemFor(err: FastifyError | Error): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const { statusCode, code } = err as FastifyError;
  const status = statusCode && statusCode >= 400 && statusCode < 600 ? statusCode : 500;
  if (status >= 500) return new HttpProblem({ status: 500, code: 'INTERNAL', title: 'Internal server error' });
  // A parse error from a JSON parser (secure-json-parse's prototype checks throw SyntaxError).
  const known =
    FASTIFY_CODES[code] ?? (err.name === 'SyntaxError' ? FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY : undefined);
  return new HttpProblem({
    status,
    code: known?.code ?? codeOfStatus(status),
    title: known?.title ?? STATUS_CODES[status] ?? 'Bad request',
    detail: err.message,
  });
}

function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const problem = problemFor(err);
  if (problem.status >= 500) request.log.error({ err }, 'request failed');
  return sendProblem(reply, problem);
}

/** Fastify's `frameworkErrors` option: bad URL encoding, over-long path parameter. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void handleError(err, request, reply);
}

/**
 * Fastify's `clientErrorHandler` option, for requests Node's parser refuses before Fastify sees
 * them (a method Node does not know, a malformed header, headers too large, a timeout).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, title] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'The request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'The request was not received in time']
        : [400, 'MALFORMED_REQUEST', 'The request is not valid HTTP'];
  const body = JSON.stringify(new HttpProblem({ status, code, title }).toBody());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Path parameters are visible ASCII: no NUL or control character reaches a database or a log. */
export const invalidPathParameter = (name: string) =>
  new HttpProblem({
    status: 400,
    code: 'INVALID_PATH_PARAMETER',
    title: 'A path parameter is not valid',
    detail: `${name} must be visible ASCII characters`,
  });

const patternOf = (url: string) =>
  new RegExp(
    `^${url
      .split(/(:[A-Za-z0-9_]+|\*)/)
      .map((part) =>
        part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('')}$`,
  );

/** Installs the error handler, the 404/405 handler and the path parameter check on `app`. */
export function installProblemHandlers(app: FastifyInstance): void {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    routes.push({ pattern: patternOf(route.url), methods: [route.method].flat().map(String) });
  });
  app.addHook('preValidation', async (request) => {
    for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>)) {
      if (typeof value !== 'string' || !VISIBLE_ASCII.test(value)) throw invalidPathParameter(name);
    }
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))].sort();
    if (allowed.length > 0) {
      return sendProblem(
        reply,
        new HttpProblem({
          status: 405,
          code: 'METHOD_NOT_ALLOWED',
          title: 'Method not allowed',
          detail: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendProblem(
      reply,
      new HttpProblem({ status: 404, code: 'NOT_FOUND', title: 'No such route', detail: `${request.method} ${path}` }),
    );
  });
}
