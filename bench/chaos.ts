/**
 * `npm run chaos -- [--trips 1000] [--duration 300] [--seed N] [--postgres] [--break compensation-after-step]`
 *
 * Every process of the system on its own, a workload of every kind of trip through the trip API,
 * and a seeded schedule of SIGKILLs (workers, the Temporal server, each service, the relay,
 * notifications), lost replies / 503s / latency in the services and network partitions of the
 * services; then the faults stop and an auditor reads every database. Prints the fault schedule,
 * then one JSON line; exits 1 on any violation. See docs/chaos.md.
 */
import { parseArgs } from 'node:util';
import { runChaos } from '../src/testkit/chaos/run-chaos';
import { TRIP_KINDS, type TripKind } from '../src/testkit/chaos/workload';

const USAGE = `usage: npm run chaos -- [--trips N] [--duration SECONDS] [--seed N] [--postgres]
       [--break compensation-after-step] [--faults SPEC] [--workers N] [--concurrency N]
       [--settle SECONDS] [--kinds K,K…] [--no-network] [--keep]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      trips: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '300' },
      seed: { type: 'string' },
      postgres: { type: 'boolean', default: false },
      break: { type: 'string' },
      faults: { type: 'string', default: 'lost=0.1,error=0.05,delay=0-100' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '128' },
      settle: { type: 'string', default: '300' },
      'no-network': { type: 'boolean', default: false },
      kinds: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  if (values.break !== undefined && values.break !== 'compensation-after-step')
    throw new UsageError(`--break: the only broken mode is compensation-after-step, got ${values.break}`);
  const kinds = values.kinds?.split(',').map((k) => k.trim());
  for (const k of kinds ?? [])
    if (!(TRIP_KINDS as readonly string[]).includes(k))
      throw new UsageError(`--kinds: unknown kind ${k} (${TRIP_KINDS.join(', ')})`);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0);
  const report = await runChaos({
    trips: int('trips', values.trips, 1),
    durationMs: int('duration', values.duration, 5) * 1000,
    seed,
    postgres: values.postgres,
    breakMode: values.break as 'compensation-after-step' | undefined,
    serviceFaults: values.faults,
    workers: int('workers', values.workers, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    settleMs: int('settle', values.settle, 10) * 1000,
    network: !values['no-network'],
    kinds: kinds as TripKind[] | undefined,
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    keepDir: values.keep,
    log: (line) => console.error(`[chaos] ${line}`),
  });
  console.log(JSON.stringify(report));
  return report.violations.length === 0 ? 0 : 1;
}

class UsageError extends Error {}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof UsageError ? `${err.message}\n${USAGE}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
