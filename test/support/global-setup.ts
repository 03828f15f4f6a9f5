/** Runs once before all tests: makes sure the Temporal binaries are present (first run installs them). */
import { temporalCliPath, temporalTestServerPath } from '../../src/dev/temporal-binaries';

export default async function globalSetup(): Promise<void> {
  process.env.TEMPORAL_CLI_PATH = temporalCliPath();
  process.env.TEMPORAL_TEST_SERVER_PATH = temporalTestServerPath();
}
