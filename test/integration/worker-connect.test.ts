/**
 * A worker started while its Temporal server is down (a restart racing the server's own restart)
 * waits for the server within WORKER_CONNECT_TIMEOUT_MS instead of exiting, and gives up with the
 * connection error once that time has passed.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/testkit/free-port';
import { devServerEnv } from '../../src/testkit/temporal-env';
import { createTripWorker, type TripWorker } from '../../src/workers/create-worker';

const configFor = (port: number, connectTimeoutMs: number) =>
  loadConfig({
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    WORKER_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
  });

it('connects once the server comes up', async () => {
  const port = await freePort();
  let env: TestWorkflowEnvironment | undefined;
  let created: TripWorker | undefined;
  try {
    let settled = false;
    const starting = createTripWorker(configFor(port, 120_000)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(settled).toBe(false); // still retrying: nothing listens yet
    env = await devServerEnv([], { port });
    created = await starting;
    expect(created.worker.getState()).toBe('INITIALIZED');
    // It polls the server, then drains (which releases the connection).
    await created.worker.runUntil(new Promise((r) => setTimeout(r, 500)));
    expect(created.worker.getState()).toBe('STOPPED');
  } finally {
    await created?.connection.close();
    await created?.apiDb.destroy();
    await env?.teardown();
  }
});

it('gives up with the connection error after WORKER_CONNECT_TIMEOUT_MS', async () => {
  const port = await freePort();
  await expect(createTripWorker(configFor(port, 1000))).rejects.toThrow(/connect|refused|transport/i);
});
