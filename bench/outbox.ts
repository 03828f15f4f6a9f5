/**
 * `npm run bench:outbox [-- --events N]`: outbox → relay process(es) → NATS JetStream →
 * notifications consumer on PostgreSQL. Prints one JSON line with five phases:
 * - `wake`: writers' commits/s when every insert sends a NOTIFY vs when none does (relay stopped);
 * - `writers`: BENCH_WRITERS writers append `events` events as fast as they can (commits/s, and
 *   the commit → consumed lag p50/p99/max);
 * - `live`: `events` events offered at BENCH_RATE events/s (the lag at a steady load);
 * - `backlog1` / `backlog2`: BENCH_BACKLOG events committed at once (one INSERT … SELECT), then
 *   drained by one relay process, then another backlog by two: relay drain (outbox empty) and
 *   consumed events/s, and their ratio.
 * Every phase is audited: inbox rows = emails = events, stream messages = events, and within each
 * aggregate the inbox order = the outbox order. Uses DATABASE_URL's server (default: the local
 * PostgreSQL, in a throwaway database) and NATS_URL (default nats://127.0.0.1:4222), with a
 * throwaway stream. BENCH_EVENTS (default 5000), BENCH_RATE (1000), BENCH_BACKLOG (100000; a
 * million for the depth figures), BENCH_AGGREGATES (200), BENCH_WRITERS (8), OUTBOX_BATCH_SIZE (500).
 * `--phases backlog` (or BENCH_PHASES) runs only the phases named (wake, writers, live, backlog).
 * The backlog phases also report CPU seconds per process (relays, their PostgreSQL backends, the
 * bench's own backends and process, which runs the consumer, nats-server, the rest of PostgreSQL)
 * and the machine's busy cores. BENCH_RELAY_NODE_ARGS adds node flags to the relays (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`). BENCH_BACKLOG_CONSUMER=after pauses the consumer while
 * the relays drain a backlog (their rate without the consumer taking cores), then lets it consume.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import { Registry } from 'prom-client';
import { openDatabase } from '../src/db/knex';
import { PROJECT_ROOT } from '../src/dev/project-root';
import { appendEvent } from '../src/outbox/append-event';
import { connectNats } from '../src/outbox/nats-stream';
import { setRelayIdle } from '../src/relay/outbox-listener';
import { startJetStreamConsumer } from '../src/services/notifications/jetstream-consumer';
import { notificationsMigrations } from '../src/services/notifications/migrations';
import { paymentMigrations } from '../src/services/payment/payment-app';
import { spawnUntil } from '../src/testkit/spawn-until';
import { percentile, positiveIntFromEnv } from './bench-support';
import { cpuSince, cpuSnapshot, pidsNamed } from './process-cpu';

const { values: args } = parseArgs({ options: { events: { type: 'string' }, phases: { type: 'string' } } });
const PHASES = ['wake', 'writers', 'live', 'backlog'] as const;
const phases = new Set((args.phases ?? process.env.BENCH_PHASES ?? PHASES.join(',')).split(',').map((p) => p.trim()));
for (const p of phases)
  if (!(PHASES as readonly string[]).includes(p))
    throw new Error(`--phases: unknown phase "${p}" (${PHASES.join(', ')})`);
/** BENCH_BACKLOG_CONSUMER=after: the consumer is paused while the relays drain a backlog. */
const consumerDuringBacklog = process.env.BENCH_BACKLOG_CONSUMER !== 'after';
const relayNodeArgs = (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The relays' PostgreSQL sessions carry this name, so their backends' CPU can be told apart. */
const RELAY_APPLICATION = 'bench-relay';
const events = args.events ? Number(args.events) : positiveIntFromEnv('BENCH_EVENTS', 5000);
if (!Number.isInteger(events) || events <= 0) throw new Error('--events must be a positive whole number');
const rate = positiveIntFromEnv('BENCH_RATE', 1000);
const backlog = positiveIntFromEnv('BENCH_BACKLOG', 100_000);
const aggregates = positiveIntFromEnv('BENCH_AGGREGATES', 200);
const writers = positiveIntFromEnv('BENCH_WRITERS', 8);
const batchSize = positiveIntFromEnv('OUTBOX_BATCH_SIZE', 500);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const countOf = async (q: Knex.QueryBuilder) => Number(((await q.count({ n: '*' }).first()) as { n: string }).n);

async function main(): Promise<void> {
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `trip_saga_bench_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const admin = knexFactory({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw('CREATE DATABASE ??', [dbName]);
  const databaseUrl = serverUrl.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-bench-'));
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const settings = {
    natsUrl,
    stream: `BENCH_${id}`,
    subjectPrefix: `bench${id}.events`,
    durable: `bench_${id}`,
    signingSecret: randomUUID(),
  };

  const outbox = await openDatabase('payment', { dataDir, databaseUrl }, { migrations: paymentMigrations });
  const inbox = await openDatabase('notifications', { dataDir, databaseUrl }, { migrations: notificationsMigrations });
  const nc = await connectNats(natsUrl, 'bench-consumer');
  let metrics = new Registry();
  const startConsumer = () => {
    metrics = new Registry();
    return startJetStreamConsumer(nc, { ...settings, db: inbox, metrics });
  };
  let consumer = await startConsumer();
  const rejected = async () =>
    ((await metrics.getSingleMetric('notifications_events_rejected_total')?.get())?.values ?? []).reduce(
      (sum, v) => sum + v.value,
      0,
    );
  const relays = new Set<ReturnType<typeof spawnUntil>['proc']>();

  /** Starts `npm run relay`'s entry point on the bench's outbox; resolves once it listens. */
  const startRelay = async () => {
    const { proc, ready } = spawnUntil(
      process.execPath,
      [...relayNodeArgs, '--import', 'tsx', 'src/processes/relay.ts'],
      {
        cwd: PROJECT_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'info',
          DATA_DIR: dataDir,
          DATABASE_URL: `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}application_name=${RELAY_APPLICATION}`,
          NATS_URL: natsUrl,
          OUTBOX_SOURCES: 'payment',
          OUTBOX_STREAM: settings.stream,
          OUTBOX_SUBJECT_PREFIX: settings.subjectPrefix,
          OUTBOX_BATCH_SIZE: String(batchSize),
          // The consumer accepts only events signed with its secret (src/outbox/event-signature.ts).
          WEBHOOK_SECRET: settings.signingSecret,
          RELAY_METRICS_PORT: '0',
        },
        ready: 'outbox relay started',
        timeoutMs: 120_000,
        what: 'relay',
      },
    );
    relays.add(proc);
    await ready;
    return proc;
  };
  const stopRelays = async () => {
    await Promise.all(
      [...relays].map(async (proc) => {
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGTERM');
          await exited;
        }
        relays.delete(proc);
      }),
    );
  };

  const committedAt = new Map<string, number>();
  let written = 0;
  const append = async (n: number) => {
    const eventId = await outbox.transaction((trx) =>
      appendEvent(trx, {
        aggregateType: 'charge',
        aggregateId: `bench-${n % aggregates}`,
        eventType: 'ChargeRefunded',
        payload: { tripId: `trip-bench-${n}`, amountCents: 100, currency: 'USD' },
      }),
    );
    committedAt.set(eventId, Date.now());
  };
  /** `count` events by the writers, as fast as they go or at `perSecond`. */
  const write = async (count: number, perSecond?: number) => {
    const from = written;
    written += count;
    let next = from;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < from + count) {
          const n = next++;
          if (perSecond) {
            const due = started + ((n - from) * 1000) / perSecond;
            if (due > Date.now()) await sleep(due - Date.now());
          }
          await append(n);
        }
      }),
    );
    return Date.now() - started;
  };
  /** Already-committed events in one statement: what piles up while the relay is down. */
  const fill = async (count: number) => {
    const from = written;
    written += count;
    await outbox.raw(
      `INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload, created_at, attempts, next_attempt_at)
       SELECT gen_random_uuid(), 'charge', 'bench-' || (n % ?), 'ChargeRefunded',
              json_build_object('tripId', 'trip-bench-' || n, 'amountCents', 100, 'currency', 'USD')::text,
              (extract(epoch from clock_timestamp()) * 1000)::bigint, 0, 0
       FROM generate_series(?::bigint, ?::bigint) AS n`,
      [aggregates, from, from + count - 1],
    );
  };
  const until = async (what: string, probe: () => Promise<boolean>) => {
    const deadline = Date.now() + 3_600_000;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      // A relay signing with another secret would leave the bench waiting for ever.
      if ((await rejected()) > 0)
        throw new Error(`the consumer rejected events (bad relay signature) waiting for ${what}`);
      await sleep(20);
    }
    return Date.now();
  };
  // The probes run every 20 ms while the pipeline works, on the same cores: each must cost
  // little whatever the depth (a count(*) of a 200,000-row inbox every 20 ms took a good part of
  // a core from the pipeline it measured).
  const drained = async () =>
    (await outbox('outbox').select('seq').whereNull('published_at').orderBy('seq').first()) === undefined;
  /** Inbox rows counted so far, and the highest seq among them; recounted in full every second. */
  let inboxCount = { n: 0, maxSeq: 0, at: 0 };
  const consumedAll = async () => {
    // Only the rows past the last one seen, through the primary key. The consumer commits its
    // batches one after another, so seq order is commit order; the full recount every second
    // catches any row that committed behind a higher seq.
    const full = Date.now() - inboxCount.at > 1000;
    const row = (await inbox('inbox')
      .where('seq', '>', full ? 0 : inboxCount.maxSeq)
      .count({ n: '*' })
      .max({ m: 'seq' })
      .first()) as { n: string; m: number | null };
    inboxCount = {
      n: (full ? 0 : inboxCount.n) + Number(row.n),
      maxSeq: row.m ?? inboxCount.maxSeq,
      at: full ? Date.now() : inboxCount.at,
    };
    return inboxCount.n >= written;
  };
  const lagSince = async (since: number) => {
    const rows = (await inbox('inbox').select('event_id', 'received_at').where('received_at', '>=', since)) as Array<{
      event_id: string;
      received_at: number;
    }>;
    const lags = rows
      .filter((r) => committedAt.has(r.event_id))
      .map((r) => Number(r.received_at) - (committedAt.get(r.event_id) ?? 0))
      .sort((a, b) => a - b);
    return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] ?? 0 };
  };
  /** Exactly once and in order, over everything so far. */
  const audit = async () => {
    const [inboxRows, emails] = [await countOf(inbox('inbox')), await countOf(inbox('emails'))];
    const stream = (await (await nc.jetstreamManager()).streams.info(settings.stream)).state.messages;
    const outOfOrder = Number(
      (
        (await outbox.raw(`
          SELECT count(*) AS n FROM (
            SELECT o.seq, lag(o.seq) OVER (PARTITION BY i.aggregate_type, i.aggregate_id ORDER BY i.seq) AS prev
            FROM notifications.inbox i JOIN payment.outbox o ON o.event_id = i.event_id) x
          WHERE x.prev > x.seq`)) as { rows: Array<{ n: string }> }
      ).rows[0]?.n,
    );
    return { events: written, inbox: inboxRows, emails, streamMessages: stream, outOfOrder };
  };
  /** The pids of each process of the pipeline, by role (PostgreSQL backends by session). */
  const pipelinePids = async () => {
    const sessions = (
      (await admin.raw('SELECT pid, application_name FROM pg_stat_activity WHERE datname = ?', [dbName])) as {
        rows: Array<{ pid: number; application_name: string }>;
      }
    ).rows;
    const relayBackends = sessions.filter((s) => s.application_name === RELAY_APPLICATION).map((s) => s.pid);
    const benchBackends = sessions.filter((s) => s.application_name !== RELAY_APPLICATION).map((s) => s.pid);
    const mine = new Set(sessions.map((s) => s.pid));
    return {
      relays: [...relays].flatMap((p) => (p.pid === undefined ? [] : [p.pid])),
      postgresRelayBackends: relayBackends,
      benchConsumerProcess: [process.pid],
      postgresBenchBackends: benchBackends,
      natsServer: pidsNamed('nats-server'),
      // WAL writer, checkpointer, autovacuum, and anyone else's sessions on the shared server.
      postgresOther: pidsNamed('postgres').filter((p) => !mine.has(p)),
    };
  };
  const drainWith = async (relayCount: number) => {
    for (let i = 0; i < relayCount; i++) await startRelay();
    const pendingBefore = written;
    // Paused, the consumer leaves the cores to the relays, PostgreSQL and NATS while they drain.
    if (!consumerDuringBacklog) await consumer.stop();
    await fill(backlog);
    const started = Date.now();
    const cpuBefore = cpuSnapshot(await pipelinePids());
    const relayDone = await until('outbox drained', drained);
    const cpuDrained = cpuSnapshot(await pipelinePids());
    if (!consumerDuringBacklog) consumer = await startConsumer();
    const consumed = await until('backlog consumed', consumedAll);
    const cpu = {
      untilDrained: cpuSince(cpuBefore, cpuDrained, (relayDone - started) / 1000),
      untilConsumed: cpuSince(cpuBefore, cpuSnapshot(await pipelinePids()), (consumed - started) / 1000),
    };
    await stopRelays();
    const seconds = (t: number) => Number(((t - started) / 1000).toFixed(3));
    return {
      relays: relayCount,
      consumerDuringDrain: consumerDuringBacklog,
      events: written - pendingBefore,
      relayDrainSeconds: seconds(relayDone),
      relayEventsPerSecond: Math.round(backlog / ((relayDone - started) / 1000)),
      consumedSeconds: seconds(consumed),
      consumedEventsPerSecond: Math.round(backlog / ((consumed - started) / 1000)),
      cpu,
      audit: await audit(),
    };
  };

  try {
    const result: Record<string, unknown> = {};
    if (phases.has('wake')) {
      // What a NOTIFY per insert costs the writers (no relay running): every insert notifies while a
      // relay says it is idle, none while it is busy; same writers, same table, one after the other.
      const wakeEvents = Math.min(events, 2000);
      await setRelayIdle(outbox, true);
      const notifyingMs = await write(wakeEvents);
      await setRelayIdle(outbox, false);
      const silentMs = await write(wakeEvents);
      result.wake = {
        events: wakeEvents,
        commitsPerSecondNotifyEveryInsert: Math.round(wakeEvents / (notifyingMs / 1000)),
        commitsPerSecondNoNotify: Math.round(wakeEvents / (silentMs / 1000)),
      };
      await setRelayIdle(outbox, true);
    }
    if (phases.has('wake') || phases.has('writers') || phases.has('live')) {
      await startRelay();
      await until('wake phase consumed', consumedAll);
      committedAt.clear();
    }
    if (phases.has('writers')) {
      // Writers as fast as they go: commits/s, with the relay and the consumer running.
      const since = Date.now();
      const writeMs = await write(events);
      const done = await until('writers phase consumed', consumedAll);
      result.writersPhase = {
        events,
        commitsPerSecond: Math.round(events / (writeMs / 1000)),
        eventsPerSecond: Math.round(events / ((done - since) / 1000)),
        lagMs: await lagSince(since),
        audit: await audit(),
      };
    }
    if (phases.has('live')) {
      // A steady offered load: the lag a user sees.
      const since = Date.now();
      const liveMs = await write(events, rate);
      await until('live phase consumed', consumedAll);
      result.live = {
        events,
        offeredPerSecond: rate,
        achievedPerSecond: Math.round(events / (liveMs / 1000)),
        lagMs: await lagSince(since),
        audit: await audit(),
      };
    }
    await stopRelays();
    if (phases.has('backlog')) {
      const backlog1 = await drainWith(1);
      const backlog2 = await drainWith(2);
      Object.assign(result, {
        backlog1,
        backlog2,
        twoRelaysVsOne: {
          relay: Number((backlog2.relayEventsPerSecond / backlog1.relayEventsPerSecond).toFixed(2)),
          consumed: Number((backlog2.consumedEventsPerSecond / backlog1.consumedEventsPerSecond).toFixed(2)),
        },
      });
    }
    console.log(
      JSON.stringify({
        bench: 'outbox',
        db: 'postgresql',
        transport: 'nats-jetstream',
        aggregates,
        writers,
        batchSize,
        ...result,
      }),
    );
  } finally {
    await stopRelays();
    await consumer.stop();
    await (await nc.jetstreamManager()).streams.delete(settings.stream).catch(() => undefined);
    await nc.close();
    await outbox.destroy();
    await inbox.destroy();
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [dbName]).catch(() => undefined);
    await admin.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
