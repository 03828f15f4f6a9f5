/** Temporal test environments on the binaries the project installed (never the SDK's download). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEV_SERVER_PERFORMANCE_ARGS } from '../dev/dev-server-args';
import { temporalCliPath, temporalTestServerPath } from '../dev/temporal-binaries';
import { loadConfig } from '../config';
import { TRIP_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath(loadConfig()) } },
  });
}

/**
 * A real dev server (the `temporal` CLI) on a free port, in memory unless a db file is given,
 * with the trip search attributes registered (TripStatus, CustomerId, TripStep) and the project's
 * SQLite pragmas and eager start (dev-server-args.ts). `port` pins its frontend port; `uiPort`
 * also starts its Web UI there.
 */
export function devServerEnv(
  extraArgs: string[] = [],
  options: { port?: number; uiPort?: number } = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath(loadConfig()) },
      ip: '127.0.0.1',
      ...(options.port ? { port: options.port } : {}),
      extraArgs: [...DEV_SERVER_PERFORMANCE_ARGS, ...extraArgs],
      searchAttributes: [...TRIP_SEARCH_ATTRIBUTES],
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
    },
  });
}
