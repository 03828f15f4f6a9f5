/** Runs once before all tests: makes sure the Temporal binaries are present (first run installs them). */
import { temporalCliPath, temporalTestServerPath } from '../../src/dev/temporal-binaries';
import { loadConfig } from '../../src/config';

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  process.env.TEMPORAL_CLI_PATH = temporalCliPath(config);
  process.env.TEMPORAL_TEST_SERVER_PATH = temporalTestServerPath(config);
}
