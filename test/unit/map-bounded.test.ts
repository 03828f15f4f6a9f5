/** The bounded fan-out of GET /trips' refresh: never more calls in flight than the limit. */
import { mapBounded } from '../../src/api/map-bounded';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('keeps at most `limit` calls in flight and returns the results in order', async () => {
  let inFlight = 0;
  let peak = 0;
  const results = await mapBounded(
    Array.from({ length: 25 }, (_, i) => i),
    4,
    async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(5 + (i % 3) * 5);
      inFlight--;
      return i * 2;
    },
  );
  expect(peak).toBe(4);
  expect(results).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
});

it('handles an empty list and passes a failure on', async () => {
  expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  await expect(
    mapBounded([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new Error('boom');
      return i;
    }),
  ).rejects.toThrow('boom');
});
