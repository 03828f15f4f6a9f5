/**
 * The real stack for integration tests: a Temporal dev server (the `temporal` CLI), the four
 * booking services on their own databases (SQLite files in a temp dir, or PostgreSQL), and a
 * worker. Everything listens on free ports and is stopped by `stop()`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName, type Config } from '../config';
import { startBookingService, type RunningService } from '../services/booking-service';
import { connectClient } from '../temporal/connection';
import { createTripWorker } from '../workers/create-worker';
import { devServerEnv } from './temporal-env';

export interface StackOptions {
  faults?: string;
  databaseUrl?: string;
  /** Reuse a running Temporal environment instead of starting one. */
  temporal?: TestWorkflowEnvironment;
  /** Or talk to a Temporal server this test runs itself (e.g. one it kills and restarts). */
  temporalAddress?: string;
  /** Do not start these services (a test starts them later). */
  skipServices?: BookingServiceName[];
  /** PAYLOAD_KEYS for the worker and the client (payloads encrypted in Temporal). */
  payloadKeys?: string;
}

export interface Stack {
  config: Config;
  /** The environment `config` was loaded from: what a worker or service process of this stack needs. */
  env: Record<string, string>;
  client: Client;
  temporal?: TestWorkflowEnvironment;
  services: Partial<Record<BookingServiceName, RunningService>>;
  worker: Worker;
  /** Stops the worker (as a crash would) and starts a fresh one against the same server. */
  replaceWorker(): Promise<void>;
  startService(name: BookingServiceName, port?: number): Promise<RunningService>;
  stop(): Promise<void>;
}

import { freePort } from './free-port';

export { freePort };

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const temporal = options.temporalAddress ? undefined : (options.temporal ?? (await devServerEnv()));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-test-'));
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: options.temporalAddress ?? temporal?.address,
    DATA_DIR: dataDir,
    DATABASE_URL: options.databaseUrl,
    FAULTS: options.faults,
    LOG_LEVEL: 'warn',
    PAYLOAD_KEYS: options.payloadKeys,
  };
  // Services a test starts later need a port known now; the others listen on one the OS picks
  // (a port probed free can be taken by another server before we bind it).
  for (const name of options.skipServices ?? []) env[`${name.toUpperCase()}_PORT`] = String(await freePort());
  let config = loadConfig(env);
  const services: Stack['services'] = {};
  const startService = async (name: BookingServiceName, port?: number) => {
    const svc = await startBookingService(name, config, { port });
    services[name] = svc;
    return svc;
  };
  let current: Awaited<ReturnType<typeof createTripWorker>> | undefined;
  let running: Promise<void> = Promise.resolve();
  let workerStopped = false;
  const stopWorker = async () => {
    if (workerStopped || !current) return;
    workerStopped = true;
    if (current.worker.getState() === 'RUNNING') current.worker.shutdown();
    await running.catch(() => undefined);
    await current.connection.close();
    await current.apiDb.destroy();
  };
  let client: Client;
  try {
    for (const name of BOOKING_SERVICES) {
      if (options.skipServices?.includes(name)) continue;
      const svc = await startService(name, 0);
      env[`${name.toUpperCase()}_PORT`] = new URL(svc.url).port;
    }
    config = loadConfig(env);
    current = await createTripWorker(config);
    running = current.worker.run();
    // The environment's own client has no payload codec: with keys, a client of ours.
    client = temporal && config.codec.keys.length === 0 ? temporal.client : await connectClient(config);
  } catch (err) {
    // Leave nothing running behind a failed start: jest would never exit.
    await stopWorker();
    await Promise.allSettled(Object.values(services).map((svc) => svc.close()));
    if (temporal && !options.temporal) await temporal.teardown();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    config,
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    client,
    temporal,
    services,
    get worker() {
      return (current as NonNullable<typeof current>).worker;
    },
    async replaceWorker() {
      await stopWorker();
      current = await createTripWorker(config);
      workerStopped = false;
      running = current.worker.run();
    },
    startService,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopWorker();
      await Promise.allSettled(Object.values(services).map((s) => s.close()));
      if (client !== temporal?.client) await client.connection.close();
      if (temporal && !options.temporal) await temporal.teardown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What every service holds for a trip, read through the audit endpoints (docs/architecture.md). */
export async function auditTrip(config: Config, tripId: string) {
  const get = async (name: BookingServiceName) => {
    const url = `${config.services[name].url}/${name === 'payment' ? 'charges' : 'reservations'}?tripId=${encodeURIComponent(tripId)}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
    return (await res.json()) as Array<{ id: string; tripId: string; idempotencyKey: string; status: string }>;
  };
  return {
    flight: await get('flight'),
    hotel: await get('hotel'),
    car: await get('car'),
    payment: await get('payment'),
  };
}

/** Invariant 1 of docs/architecture.md for one trip, as a list of violations (empty when it holds). */
export function invariantViolations(status: string, audit: Awaited<ReturnType<typeof auditTrip>>): string[] {
  const problems: string[] = [];
  const active = (rows: Array<{ status: string }>, s: string) => rows.filter((r) => r.status === s).length;
  for (const step of ['flight', 'hotel', 'car'] as const) {
    const n = active(audit[step], 'ACTIVE');
    if (status === 'CONFIRMED' && n !== 1) problems.push(`${step}: ${n} active reservations on a confirmed trip`);
    if (status !== 'CONFIRMED' && n !== 0) problems.push(`${step}: ${n} active reservations on a ${status} trip`);
  }
  const captured = active(audit.payment, 'CAPTURED');
  if (status === 'CONFIRMED' && captured !== 1)
    problems.push(`payment: ${captured} captured charges on a confirmed trip`);
  if (status !== 'CONFIRMED' && captured !== 0)
    problems.push(`payment: ${captured} unrefunded charges on a ${status} trip`);
  return problems;
}

/**
 * Invariant 2 of DESIGN.md for one trip: every row a service holds for it was made by one of the
 * trip's own step keys (`<tripId>:<step>`), and no key made two rows.
 */
export function duplicateKeyViolations(tripId: string, audit: Awaited<ReturnType<typeof auditTrip>>): string[] {
  const problems: string[] = [];
  for (const [step, rows] of Object.entries(audit)) {
    const expectedKey = `${tripId}:${step}`;
    for (const row of rows) {
      if (row.idempotencyKey !== expectedKey) problems.push(`${step}: a row made by key ${row.idempotencyKey}`);
    }
    if (rows.length > 1) problems.push(`${step}: ${rows.length} rows for key ${expectedKey}`);
  }
  return problems;
}
