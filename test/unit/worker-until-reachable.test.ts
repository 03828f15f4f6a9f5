/**
 * A starting worker retries what fails because the Temporal server cannot be reached (the
 * connect, and the namespace check of Worker.create), and nothing else.
 */
import { isUnreachable, untilReachable } from '../../src/workers/create-worker';

const UNREACHABLE = new Error(
  'Namespace default was not found or otherwise could not be described: Status { code: Unavailable, message: "tcp connect error" }',
);

it('retries an unreachable server until the attempt succeeds', async () => {
  let calls = 0;
  const retries: number[] = [];
  const result = await untilReachable(
    'test',
    10_000,
    async () => {
      calls++;
      if (calls < 3) throw UNREACHABLE;
      return 'worker';
    },
    (_err, delayMs) => retries.push(delayMs),
  );
  expect(result).toBe('worker');
  expect(retries).toEqual([250, 500]);
});

it('throws any other error at once', async () => {
  let calls = 0;
  const refused = untilReachable('test', 10_000, async () => {
    calls++;
    throw new Error('Namespace nope is not found');
  });
  await expect(refused).rejects.toThrow('nope');
  expect(calls).toBe(1);
});

it('gives up past the deadline with the last error', async () => {
  await expect(
    untilReachable(
      'test',
      300,
      async () => Promise.reject(UNREACHABLE),
      () => undefined,
    ),
  ).rejects.toThrow(/Unavailable/);
});

it('tells unreachable from other errors', () => {
  expect(isUnreachable(UNREACHABLE)).toBe(true);
  expect(
    isUnreachable(new Error('TransportError: tonic::transport::Error(Transport, ConnectError("tcp connect error"))')),
  ).toBe(true);
  expect(isUnreachable(new Error('invalid workflow bundle'))).toBe(false);
});
