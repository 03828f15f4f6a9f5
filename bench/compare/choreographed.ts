/**
 * The choreographed flavour for `npm run compare`: src/testkit/choreography-stack.ts on PostgreSQL
 * (services, participants, relay and projection in this process; no notifications consumer, as the
 * other flavours' stacks have none). Its kill scenario runs the hotel service and participant as a
 * process of its own and SIGKILLs it while it handles the trip's FlightReserved.
 */
import { once } from 'node:events';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { STEPS } from '../../src/shared/trip';
import { PROJECT_ROOT } from '../../src/dev/project-root';
import { openApiDatabase, findTrip } from '../../src/trips/trip-records';
import { startChoreographyStack } from '../../src/testkit/choreography-stack';
import { spawnUntil } from '../../src/testkit/spawn-until';
import { jetStreamCounts } from './counters';
import type { FlavorUnderTest, KillTarget } from './flavor';

/** The relay's idle poll here: on PostgreSQL a NOTIFY wakes it at once, so this is only its backstop. */
const RELAY_IDLE_POLL_MS = 1000;
/** How long JetStream waits for an ack before it redelivers (production default: 30 s). */
const ACK_WAIT_MS = 2000;
const DURABLES = [...STEPS.map((s) => `choreography-${s}`), 'choreography-projection'];

export async function startChoreographed(
  databaseUrl: string,
  database: string,
  createDatabase: (name: string) => Promise<string>,
): Promise<FlavorUnderTest> {
  const stack = await startChoreographyStack({
    databaseUrl,
    notifications: false,
    relayPollIntervalMs: RELAY_IDLE_POLL_MS,
    ackWaitMs: ACK_WAIT_MS,
  });
  // The driver waits for the end through a handle of its own, so its reads can be told apart.
  const reader = await openApiDatabase(stack.config);
  return {
    name: 'choreographed',
    config: stack.config,
    database,
    services: Object.values(stack.services),
    tripStateDbs: [stack.apiDb],
    observerDbs: [reader],
    async book(tripId, request) {
      await stack.book(request, tripId);
      return (await stack.waitForEnd(tripId, 120_000, { pollMs: 20, db: reader })).status;
    },
    async network() {
      const counts = await jetStreamCounts(stack.nc, stack.config.outbox.stream, DURABLES);
      return { natsPublished: counts.published, natsDeliveries: counts.deliveries };
    },
    killTarget: () => choreographedKillTarget(createDatabase),
    async stop() {
      await reader.destroy();
      await stack.stop();
    },
  };
}

async function choreographedKillTarget(createDatabase: (name: string) => Promise<string>): Promise<KillTarget> {
  const databaseUrl = await createDatabase('cmp_choreographed_kill');
  const stack = await startChoreographyStack({
    databaseUrl,
    external: ['hotel'],
    notifications: false,
    relayPollIntervalMs: RELAY_IDLE_POLL_MS,
    ackWaitMs: ACK_WAIT_MS,
  });
  let hotel: ChildProcess | undefined;
  // The first hotel is slow on purpose (FAULTS delay), so the kill lands while it handles the event.
  const spawnHotel = async (faults?: string) => {
    const spawned = spawnUntil(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/processes/services.ts'), 'hotel'],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...stack.env, FAULTS: faults },
        ready: 'service listening',
        timeoutMs: 120_000,
        what: 'hotel service',
      },
    );
    hotel = spawned.proc;
    await spawned.ready;
  };
  try {
    await spawnHotel('delay=400-600');
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    victim: "the hotel service's process (HTTP app + choreography participant), SIGKILLed once the flight is booked",
    config: stack.config,
    databaseUrl,
    when: 'flight-visible',
    expected: 'CONFIRMED',
    async start(tripId, request) {
      await stack.book(request, tripId);
    },
    async kill() {
      const victim = hotel as ChildProcess;
      const exited = once(victim, 'exit');
      victim.kill('SIGKILL');
      await exited;
    },
    async status(tripId) {
      return (await findTrip(stack.apiDb, tripId))?.status;
    },
    restart: () => spawnHotel(),
    async waitForEnd(tripId) {
      return (await stack.waitForEnd(tripId, 120_000, { pollMs: 20 })).status;
    },
    notes: {
      victimFaults: 'the killed hotel ran with FAULTS=delay=400-600 so the kill lands while it handles FlightReserved',
      ackWaitMs: ACK_WAIT_MS,
      restart: 'a new npm run services -- hotel process; JetStream redelivers the unacked event after ackWaitMs',
    },
    async stop() {
      if (hotel && hotel.exitCode === null && hotel.signalCode === null) {
        const exited = once(hotel, 'exit');
        hotel.kill('SIGTERM');
        await exited;
      }
      await stack.stop();
    },
  };
}
