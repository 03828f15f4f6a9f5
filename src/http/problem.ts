/** HTTP errors as application/problem+json (RFC 9457) with a stable `type` and `code`. */
import type { FastifyInstance, FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  [extra: string]: unknown;
}

/** An error that is answered as a problem document. */
export class HttpProblem extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
    this.headers = headers;
  }

  toBody(): ProblemBody {
    return {
      type: `urn:trip-saga:problem:${this.code.toLowerCase().replace(/_/g, '-')}`,
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail ? { detail: this.detail } : {}),
      ...this.extra,
    };
  }
}

export const badRequest = (detail: string, errors?: string[]) =>
  new HttpProblem(400, 'VALIDATION_FAILED', 'The request is not valid', detail, errors ? { errors } : {});

export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE).send(problem.toBody());
}

/** Maps every error Fastify raises (bad JSON, bad Content-Type, body too large, 404) to a problem. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpProblem) return sendProblem(reply, err);
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return sendProblem(reply, new HttpProblem(500, 'INTERNAL', 'Internal server error'));
    }
    const code =
      status === 415
        ? 'UNSUPPORTED_MEDIA_TYPE'
        : status === 413
          ? 'BODY_TOO_LARGE'
          : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.name === 'SyntaxError'
            ? 'MALFORMED_JSON'
            : 'BAD_REQUEST';
    return sendProblem(reply, new HttpProblem(status, code, err.message));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem(404, 'NOT_FOUND', 'No such route', `${request.method} ${request.url}`)),
  );
}
