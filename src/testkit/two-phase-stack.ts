/**
 * The two-phase flavour's real stack for tests and the compare bench: the four booking services on
 * PostgreSQL with prepared transactions (a private cluster unless a URL is given) and the
 * coordinator, in this process or as a child process that a test may SIGKILL.
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { BOOKING_SERVICES, loadConfig, type Config } from '../config';
import { startBookingService, type RunningService } from '../services/booking-service';
import type { BookingServiceName } from '../config';
import { startCoordinator, type RunningCoordinator } from '../twophase/start-coordinator';
import { freePort } from './free-port';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres';
import { spawnUntil } from './spawn-until';

export interface TwoPhaseStackOptions {
  /** A PostgreSQL database with prepared transactions; default: a fresh private cluster. */
  databaseUrl?: string;
  faults?: string;
  /** Run the coordinator in this process (default) or leave it to `spawnCoordinator`. */
  inProcessCoordinator?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface TwoPhaseStack {
  config: Config;
  env: NodeJS.ProcessEnv;
  cluster?: PrivatePostgres;
  services: Partial<Record<BookingServiceName, RunningService>>;
  coordinator?: RunningCoordinator;
  /** Starts `npm run coordinator` as a child process with extra env (e.g. TWOPHASE_TEST_CRASH). */
  spawnCoordinator(env?: NodeJS.ProcessEnv): Promise<ChildProcess>;
  startService(name: BookingServiceName): Promise<RunningService>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

export async function startTwoPhaseStack(options: TwoPhaseStackOptions = {}): Promise<TwoPhaseStack> {
  const cluster = options.databaseUrl ? undefined : await startPrivatePostgres();
  const children = new Set<ChildProcess>();
  const services: TwoPhaseStack['services'] = {};
  let coordinator: RunningCoordinator | undefined;
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    DATABASE_URL: options.databaseUrl ?? (await cluster!.createDatabase('trips')),
    FAULTS: options.faults,
    LOG_LEVEL: 'warn',
    TWOPHASE_RECOVERY_INTERVAL_MS: options.env?.TWOPHASE_RECOVERY_INTERVAL_MS ?? '500',
  };
  const stop = async () => {
    await coordinator?.close();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.allSettled(Object.values(services).map((s) => s.close()));
    cluster?.stop();
  };
  try {
    // Port 0: the OS picks a port no other server can take between a probe and our bind.
    for (const name of BOOKING_SERVICES) {
      const svc = await startBookingService(name, loadConfig(env), { port: 0 });
      services[name] = svc;
      env[`${name.toUpperCase()}_PORT`] = new URL(svc.url).port;
    }
    if (options.inProcessCoordinator !== false) {
      coordinator = await startCoordinator(loadConfig(env), { port: 0 });
      env.TWOPHASE_PORT = new URL(coordinator.url).port;
    } else {
      // A coordinator process binds it later (and again after a kill): a probed port it must be.
      env.TWOPHASE_PORT = String(await freePort());
    }
    const config = loadConfig(env);
    // A service started again (after a test closed it) comes back on the port it had.
    const startService = async (name: BookingServiceName) => {
      const svc = await startBookingService(name, config);
      services[name] = svc;
      return svc;
    };
    return {
      config,
      env,
      cluster,
      services,
      get coordinator() {
        return coordinator;
      },
      async spawnCoordinator(extra = {}) {
        const { proc, ready } = spawnUntil(
          process.execPath,
          // One process (no tsx launcher in between), so a SIGKILL hits the coordinator itself.
          ['--import', 'tsx', 'src/processes/twophase-coordinator.ts'],
          {
            cwd: ROOT,
            env: { ...process.env, ...env, ...extra },
            ready: '2PC coordinator listening',
            timeoutMs: 60_000,
            what: '2PC coordinator',
          },
        );
        children.add(proc);
        await ready;
        return proc;
      },
      startService,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
