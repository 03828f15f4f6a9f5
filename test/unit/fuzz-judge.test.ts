/** The fuzzer's verdicts: what counts as breaking the error contract, what may write. */
import { contractViolation, isRefusal } from '../../src/testkit/fuzz/judge';
import { generateCase } from '../../src/testkit/fuzz/cases';
import { seededRng } from '../../src/testkit/random';
import type { RawResponse } from '../../src/testkit/raw-http';

const problem = (
  status: number,
  code: string,
  contentType = 'application/problem+json; charset=utf-8',
): RawResponse => ({
  status,
  headers: { 'content-type': contentType },
  body: JSON.stringify({ type: `urn:trip-saga:problem:${code.toLowerCase()}`, title: 't', status, code }),
});

describe('the fuzz judge', () => {
  it('flags any 5xx, even as a problem document', () => {
    expect(contractViolation('GET', problem(500, 'INTERNAL'))).toMatch(/500/);
    expect(contractViolation('POST', problem(503, 'NOT_READY'))).toMatch(/503/);
  });

  it('flags an error that is not problem+json, or whose problem does not match the status', () => {
    expect(contractViolation('GET', problem(400, 'BAD', 'application/json'))).toMatch(/content-type/);
    expect(contractViolation('GET', { status: 404, headers: {}, body: 'Not Found' })).toMatch(/content-type/);
    expect(
      contractViolation('GET', {
        ...problem(400, 'X'),
        body: JSON.stringify({ status: 404, code: 'X', type: 'u', title: 't' }),
      }),
    ).toMatch(/status 404/);
    expect(contractViolation('GET', { ...problem(400, 'X'), body: '{"status":400' })).toMatch(/not JSON/);
  });

  it('accepts successes and well-formed problems, and a HEAD problem without a body', () => {
    expect(contractViolation('GET', { status: 200, headers: { 'content-type': 'application/json' }, body: '[]' })).toBe(
      undefined,
    );
    expect(contractViolation('POST', problem(422, 'IDEMPOTENCY_KEY_REUSED'))).toBeUndefined();
    expect(contractViolation('HEAD', { ...problem(404, 'NOT_FOUND'), body: '' })).toBeUndefined();
  });

  it('treats stored business refusals as outcomes and every other 4xx as a refusal', () => {
    expect(isRefusal(problem(409, 'SOLD_OUT'))).toBe(false);
    expect(isRefusal(problem(402, 'PAYMENT_DECLINED'))).toBe(false);
    expect(isRefusal(problem(409, 'REQUEST_IN_FLIGHT'))).toBe(true);
    expect(isRefusal(problem(400, 'JSON_TOO_DEEP'))).toBe(true);
    expect(isRefusal({ status: 201, headers: {}, body: '{}' })).toBe(false);
  });

  it('generates the same cases from the same seed', () => {
    const ctx = { apiToken: 't', tripIds: ['trip-a', 'trip-b'] };
    const run = (seed: number) =>
      Array.from({ length: 50 }, (_, i) => generateCase(seededRng(seed + i), ctx, 's'.repeat(16)));
    const strip = (cases: ReturnType<typeof run>) =>
      JSON.stringify(
        cases.map((c) => ({
          ...c,
          request: { ...c.request, headers: c.request.headers?.filter(([n]) => n !== 'X-Outbox-Signature') },
        })),
      );
    expect(strip(run(5))).toEqual(strip(run(5)));
    expect(strip(run(5))).not.toEqual(strip(run(6)));
  });
});
