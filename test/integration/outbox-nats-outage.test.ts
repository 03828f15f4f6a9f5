/**
 * NATS stopped while events pile up: nothing is lost once it is back. Uses a second nats-server
 * of its own (started and stopped by pid, never the machine's), with its JetStream store on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createNatsTransport } from '../../src/relay/nats-transport';
import { OutboxRelay } from '../../src/relay/outbox-relay';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';
import { freePort } from '../../src/testkit/stack';
import {
  appendRefunds,
  count,
  deliveryProblems,
  openDbs,
  startNatsConsumer,
  uniqueStream,
  failingTransiently,
  unpublished,
  waitFor,
  type Dbs,
} from '../support/outbox-harness';

const NATS_SERVER = process.env.NATS_SERVER_PATH ?? '/usr/sbin/nats-server';

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function startNats(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: 'ignore',
  });
  await waitFor(
    'nats-server listening',
    () => portOpen(port),
    (up) => up,
    15_000,
  );
  return child;
}

async function stopNats(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

let pg: TestDatabase;
let dbs: Dbs;
let storeDir: string;
let nats: ChildProcess | undefined;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_outage');
  dbs = await openDbs(pg.url);
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-nats-'));
});
afterAll(async () => {
  if (nats) await stopNats(nats);
  await dbs?.close();
  await pg?.drop();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

it('publishes everything that piled up while NATS was down, once it is back', async () => {
  const port = await freePort();
  nats = await startNats(port, storeDir);
  const settings = uniqueStream(`nats://127.0.0.1:${port}`);
  const transport = await createNatsTransport(settings, { timeoutMs: 500 });
  const consumer = await startNatsConsumer(dbs.notifications, settings);
  const relay = new OutboxRelay([{ name: 'payment', db: dbs.payment }], transport, {
    batchSize: 20,
    pollIntervalMs: 20,
    maxAttempts: 1000,
    backoffBaseMs: 50,
    backoffMaxMs: 300,
    retentionMs: 3_600_000,
  });
  try {
    relay.start();
    const first = await appendRefunds(dbs.payment, 3, 2);
    await waitFor(
      'first events applied',
      () => count(dbs.notifications, 'inbox'),
      (n) => n === first.length,
    );

    await stopNats(nats);
    const piled = await appendRefunds(dbs.payment, 5, 4);
    // The relay keeps trying and failing: the events wait, with their attempts and error recorded.
    await waitFor(
      'failed attempts while NATS is down',
      () => failingTransiently(dbs.payment),
      (n) => n > 0,
    );
    expect(await unpublished(dbs.payment)).toBe(piled.length);
    expect(await count(dbs.payment, 'outbox', { parked_at: null })).toBeGreaterThan(0);

    nats = await startNats(port, storeDir);
    await waitFor(
      'outbox drained once NATS is back',
      () => unpublished(dbs.payment),
      (n) => n === 0,
      60_000,
    );
    await waitFor(
      'every event applied',
      () => count(dbs.notifications, 'inbox'),
      (n) => n === first.length + piled.length,
      60_000,
    );
    expect(await deliveryProblems(dbs.payment, dbs.notifications, [...first, ...piled])).toEqual([]);
    expect(await count(dbs.payment, 'outbox', {})).toBe(first.length + piled.length);
    expect(
      Number(((await dbs.payment('outbox').whereNotNull('parked_at').count({ n: '*' }).first()) as { n: string }).n),
    ).toBe(0);
  } finally {
    await relay.stop();
    await transport.close();
    await consumer.stop();
  }
});
