/**
 * Jest setup: the Temporal SDK logs at WARN in tests (its INFO lines and bundler output would
 * bury the results). TEMPORAL_TEST_LOG_LEVEL=DEBUG brings them back.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const level = (process.env.TEMPORAL_TEST_LOG_LEVEL ?? 'WARN') as LogLevel;
try {
  Runtime.install({ logger: new DefaultLogger(level) });
} catch {
  // A Runtime already exists in this module registry: keep it.
}
