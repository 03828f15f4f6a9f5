/**
 * `npm run fuzz` in short: a few hundred seeded malformed requests against the whole stack (trip
 * API, four booking services, notifications) on SQLite and on PostgreSQL. Any 5xx, any error
 * that is not problem+json, or any write caused by a refused request fails the test.
 */
import { startFuzzStack, type FuzzStack } from '../../src/testkit/fuzz/fuzz-stack';
import { runFuzz } from '../../src/testkit/fuzz/run-fuzz';
import { SURFACES } from '../../src/testkit/fuzz/templates';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

const REQUESTS = 400;

describe.each(['SQLite', 'PostgreSQL'] as const)('fuzzing every HTTP surface on %s', (kind) => {
  let pg: TestDatabase | undefined;
  let fuzz: FuzzStack;

  beforeAll(async () => {
    if (kind === 'PostgreSQL') pg = await createTestDatabase('fuzz');
    fuzz = await startFuzzStack({ databaseUrl: pg?.url });
  }, 180_000);
  afterAll(async () => {
    await fuzz?.stop();
    await pg?.drop();
  }, 120_000);

  it(`answers ${REQUESTS} malformed requests with 4xx problems and lets no refused request write`, async () => {
    const summary = await runFuzz(fuzz, { seed: kind === 'SQLite' ? 101 : 202, requests: REQUESTS });
    expect(summary.examples).toEqual([]);
    expect(summary.violations).toBe(0);
    // The run reached every surface and was mostly refused: it fuzzed, it did not just succeed.
    expect(Object.keys(summary.bySurface).sort()).toEqual([...SURFACES].sort());
    expect(summary.refused).toBeGreaterThan(REQUESTS / 2);
    expect(summary.byStatus['500']).toBeUndefined();
  }, 600_000);
});
