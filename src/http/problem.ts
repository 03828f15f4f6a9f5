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

/** 503 INJECTED_FAULT: the `error` fault of FAULTS answered before anything was done. */
export const injectedFault = () =>
  new HttpProblem({ status: 503, code: 'INJECTED_FAULT', title: 'Service unavailable (injected fault)' });

/** 422 UNKNOWN_<KIND>: the resource a booking names is not in the service's catalog. */
export const unknownResource = (kind: string, label: string) =>
  new HttpProblem({ status: 422, code: `UNKNOWN_${kind.toUpperCase()}`, title: `Unknown ${kind}`, detail: label });

/** 409 SOLD_OUT: no capacity left for a reservation (a business refusal: it starts compensation). */
export const soldOut = (label: string) =>
  new HttpProblem({ status: 409, code: 'SOLD_OUT', title: 'Sold out', detail: `no availability for ${label}` });

/** 422 UNKNOWN_TOKEN: a payment token the service does not know (refused before anything is stored). */
export const unknownToken = (token: string) =>
  new HttpProblem({
    status: 422,
    code: 'UNKNOWN_TOKEN',
    title: 'Unknown payment token',
    detail: `token ending ${token.slice(-4)}`,
  });

/** 402 PAYMENT_DECLINED: the card was declined (a business refusal: it starts compensation). */
export const paymentDeclined = (amountCents: number, currency: string) =>
  new HttpProblem({
    status: 402,
    code: 'PAYMENT_DECLINED',
    title: 'The card was declined',
    detail: `charge of ${amountCents} ${currency}`,
  });

/** 503 FORWARD_IN_FLIGHT: the forward request a compensation undoes has not settled yet. */
export const forwardInFlight = () =>
  new HttpProblem({
    status: 503,
    code: 'FORWARD_IN_FLIGHT',
    title: 'The request to undo is still in progress',
    headers: { 'retry-after': '1' },
  });

export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  return reply.code(problem.status).headers(problem.headers).type(PROBLEM_CONTENT_TYPE).send(problem.toBody());
}
