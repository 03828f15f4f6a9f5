/** HTTP errors as application/problem+json (RFC 9457) with a stable `type` and `code`. */
import type { FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  [extra: string]: unknown;
}

/** What a problem document says: status, stable code and title, and the optional rest. */
export interface ProblemOptions {
  status: number;
  /** Stable, UPPER_SNAKE; the `type` URI is derived from it. */
  code: string;
  title: string;
  detail?: string;
  /** Extension members merged into the body (e.g. `errors`, `checks`). */
  extra?: Record<string, unknown>;
  /** Response headers (e.g. `retry-after`, `www-authenticate`). */
  headers?: Record<string, string>;
}

/** The `type` URI of a problem code. */
export const problemType = (code: string) => `urn:trip-saga:problem:${code.toLowerCase().replace(/_/g, '-')}`;

/** An error that is answered as a problem document. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(options: ProblemOptions) {
    super(options.detail ?? options.title);
    this.name = 'HttpProblem';
    this.status = options.status;
    this.code = options.code;
    this.title = options.title;
    this.detail = options.detail;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  toBody(): ProblemBody {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail ? { detail: this.detail } : {}),
      ...this.extra,
    };
  }
}

/** 400 VALIDATION_FAILED, with the list of what is wrong when there is one. */
export const badRequest = (detail: string, errors?: string[]) =>
  new HttpProblem({
    status: 400,
    code: 'VALIDATION_FAILED',
    title: 'The request is not valid',
    detail,
    extra: errors ? { errors } : {},
  });

export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE).send(problem.toBody());
}
