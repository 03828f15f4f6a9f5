/**
 * The HTTP seam between activities and the booking services: one POST with an Idempotency-Key,
 * and the translation of its outcome into what Temporal should do (retry, or fail for good).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Span } from '@opentelemetry/api';
import { SpanKind, withSpan, withTraceHeaders } from '../observability/trace-context';
import { ERROR_CODE_TO_FAILURE, FailureType } from '../shared/failures';

/** Retryable: the service could not be reached or did not answer in time. */
export const SERVICE_UNAVAILABLE = 'ServiceUnavailableError';

export interface ServiceCall {
  service: string;
  url: string;
  idempotencyKey: string;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface Problem {
  code?: string;
  title?: string;
  detail?: string;
}

/** One POST to a service in a client span whose `traceparent` the service continues. */
export function postIdempotent<T>(call: ServiceCall): Promise<T> {
  const attributes = { 'http.request.method': 'POST', 'url.full': call.url, 'peer.service': call.service };
  return withSpan(`POST ${call.service}`, { kind: SpanKind.CLIENT, attributes }, (span) => post<T>(call, span));
}

async function post<T>(call: ServiceCall, span: Span): Promise<T> {
  const signals = [AbortSignal.timeout(call.timeoutMs), ...(call.signal ? [call.signal] : [])];
  let response: Response;
  let text: string;
  try {
    response = await fetch(call.url, {
      method: 'POST',
      headers: withTraceHeaders({ 'content-type': 'application/json', 'idempotency-key': call.idempotencyKey }),
      body: JSON.stringify(call.body),
      signal: AbortSignal.any(signals),
    });
    span.setAttribute('http.response.status_code', response.status);
    text = await response.text();
  } catch (err) {
    // A dropped connection or a timeout: the service may or may not have committed. The retry
    // with the same key finds out.
    throw ApplicationFailure.retryable(
      `${call.service}: no answer from ${call.url} (${(err as Error).message})`,
      SERVICE_UNAVAILABLE,
    );
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw ApplicationFailure.retryable(
      `${call.service}: answered ${response.status} with a body that is not JSON`,
      SERVICE_UNAVAILABLE,
    );
  }
  if (response.ok) return json as T;

  const problem = (json ?? {}) as Problem;
  const what =
    `${call.service} answered ${response.status} ${problem.code ?? ''}: ${problem.detail ?? problem.title ?? text}`.trim();
  if (response.status >= 500 || response.status === 429 || problem.code === 'REQUEST_IN_FLIGHT') {
    throw ApplicationFailure.retryable(what, SERVICE_UNAVAILABLE);
  }
  const type = (problem.code && ERROR_CODE_TO_FAILURE[problem.code]) || FailureType.InvalidRequest;
  throw ApplicationFailure.create({ type, message: what, nonRetryable: true, details: [problem] });
}
