/**
 * `npm run bench:api`: requests/s and p50/p99 of the trip API on PostgreSQL for first-time
 * `POST /trips` (claim + workflow start + trip row), replays of completed keys (served from the
 * store, no Temporal call) and `GET /healthz` (the floor of the HTTP stack), in one run, printed
 * as one JSON line with the ratios. Starts its own Temporal dev server, services and worker on
 * free 127.0.0.1 ports and a throwaway database on DATABASE_URL's server (default: the local
 * PostgreSQL); removes all of it at the end.
 * Order: first-time POSTs, then (once their sagas have finished) healthz, then replays.
 * BENCH_POSTS (default 300), BENCH_REPLAYS (3000), BENCH_HEALTHZ (3000), BENCH_CONCURRENCY (16).
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import knexFactory from 'knex';
import { buildApp } from '../src/api/app';
import { openApiDatabase } from '../src/trips/trip-records';
import { sampleTrip } from '../src/testkit/sample-trip';
import { startStack, type Stack } from '../src/testkit/stack';
import { percentile, positiveIntFromEnv } from './bench-support';

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

interface PhaseResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` requests, `concurrency` at a time; `check` throws on an unexpected answer. */
async function phase(
  count: number,
  concurrency: number,
  send: (i: number) => Promise<Response>,
  check: (r: Response) => void,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      const res = await send(i);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      check(res);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: count,
    rps: round(count / seconds, 1),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

async function main(): Promise<void> {
  const posts = positiveIntFromEnv('BENCH_POSTS', 300);
  const replays = positiveIntFromEnv('BENCH_REPLAYS', 3000);
  const healthz = positiveIntFromEnv('BENCH_HEALTHZ', 3000);
  const concurrency = positiveIntFromEnv('BENCH_CONCURRENCY', 16);
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `trip_saga_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${dbName}`);
  // The in-process worker's lines would bury the one JSON line this prints.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [dbName]);
  let stack: Stack | undefined;
  let db: Awaited<ReturnType<typeof openApiDatabase>> | undefined;
  let app: ReturnType<typeof buildApp> | undefined;
  try {
    stack = await startStack({ databaseUrl });
    db = await openApiDatabase({ dataDir: '', databaseUrl });
    const token = `bench-${randomUUID()}`;
    app = buildApp({ db, temporalClient: stack.client, config: stack.config, tokens: new Map([[token, 'bench']]) });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const body = JSON.stringify(sampleTrip());
    const keys = Array.from({ length: posts }, () => randomUUID());
    const post = (key: string) =>
      fetch(`${address}/trips`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body,
      });
    const expect = (status: number, replayed: boolean) => (r: Response) => {
      if (r.status !== status || (r.headers.get('idempotent-replayed') === 'true') !== replayed) {
        throw new Error(`unexpected answer ${r.status} (replayed: ${r.headers.get('idempotent-replayed')})`);
      }
    };

    const first = await phase(posts, concurrency, (i) => post(keys[i]!), expect(202, false));
    // Let the sagas finish, so the in-process worker does not compete with the next phases.
    const settleDeadline = Date.now() + 120_000;
    while (
      (await stack.client.workflow.count(`ExecutionStatus = "Running"`)).count > 0 &&
      Date.now() < settleDeadline
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const health = await phase(healthz, concurrency, () => fetch(`${address}/healthz`), expect(200, false));
    const replay = await phase(replays, concurrency, (i) => post(keys[i % posts]!), expect(202, true));
    const running = (await stack.client.workflow.count(`ExecutionStatus = "Running"`)).count;
    console.log(
      JSON.stringify({
        bench: 'api',
        database: 'postgresql',
        concurrency,
        healthz: health,
        firstPost: first,
        replay,
        ratios: {
          replayRpsOverFirstPostRps: round(replay.rps / first.rps),
          healthzRpsOverReplayRps: round(health.rps / replay.rps),
          firstPostP50OverReplayP50: round(first.p50Ms / replay.p50Ms),
        },
        tripsStillRunningAfterRun: running,
      }),
    );
  } finally {
    await app?.close();
    await db?.destroy();
    await stack?.stop();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [dbName]).catch(() => undefined);
    await admin.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
