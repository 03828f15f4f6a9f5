/**
 * `npm run fuzz [-- --seed N] [--requests N] [--postgres]`: malformed requests (bodies, headers,
 * paths, methods, content types, sizes, encodings) against the trip API, the four booking
 * services and the notifications service on a stack of its own (SQLite by default; PostgreSQL
 * with --postgres or DATABASE_URL, in a throwaway database on that server). Prints one JSON line
 * and exits 1 on any 5xx, any error that is not application/problem+json, or any write caused
 * by a refused request. The same seed sends the same requests.
 */
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startFuzzStack, type FuzzStack } from '../src/testkit/fuzz/fuzz-stack';
import { runFuzz } from '../src/testkit/fuzz/run-fuzz';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from '../src/testkit/pg';

const whole = (name: string, value: string | undefined, fallback: number) => {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${value}"`);
  return n;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      requests: { type: 'string' },
      postgres: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run fuzz -- [--seed N] [--requests N (default 2000)] [--postgres]');
    return;
  }
  const seed = whole('seed', values.seed, 1);
  const requests = whole('requests', values.requests, 2000);
  const postgres = values.postgres || Boolean(process.env.DATABASE_URL);
  // The in-process worker's lines would bury the one JSON line this prints.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let pg: TestDatabase | undefined;
  let fuzz: FuzzStack | undefined;
  try {
    if (postgres) pg = await createTestDatabase('fuzz', process.env.DATABASE_URL ?? PG_ADMIN_URL);
    fuzz = await startFuzzStack({ databaseUrl: pg?.url });
    const summary = await runFuzz(fuzz, { seed, requests });
    console.log(JSON.stringify({ fuzz: 'http', database: postgres ? 'postgresql' : 'sqlite', ...summary }));
    if (summary.violations > 0) process.exitCode = 1;
  } finally {
    await fuzz?.stop();
    await pg?.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
