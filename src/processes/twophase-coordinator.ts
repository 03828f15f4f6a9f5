/**
 * `npm run coordinator`: the two-phase-commit coordinator (the `2pc` saga flavour). Listens on
 * TWOPHASE_PORT (4006); its decision log lives in schema `twophase` of DATABASE_URL, which must be
 * a PostgreSQL server with max_prepared_transactions > 0, like the booking services' databases.
 */
import { loadConfig } from '../config';
import { startCoordinator } from '../twophase/start-coordinator';
import { startTracing } from '../observability/tracing';

async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config, 'coordinator');
  const running = await startCoordinator(config, {
    logger: { level: config.logLevel },
    log: (msg, err) => console.error(msg, err),
  });
  try {
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log(JSON.stringify({ msg: '2PC coordinator listening', url: running.url }));
    await stopped;
  } finally {
    await running.close();
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
