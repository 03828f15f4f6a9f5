/**
 * The compose topology without Docker: every project service of docker-compose.yml runs as its
 * own process (booking services, the worker replicas, relay, notifications, trip API) with the
 * environment compose gives it, on PostgreSQL (a throwaway database), NATS JetStream and a
 * Temporal dev server set up by the compose file's own namespace/search-attribute script.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import knexFactory, { type Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config';
import { CustomerIdKey, TripStatusKey } from '../../src/shared/search-attributes';
import { connectClient } from '../../src/temporal/connection';
import { bookTrip } from '../../src/workflows';
import { waitHealthy, type LocalProcess } from '../support/compose-processes';
import { startIsolatedComposeStack, type ComposeStack, type IsolatedComposeStack } from '../support/compose-stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';

let isolated: IsolatedComposeStack;
let stack: ComposeStack;
let pg: Knex;
let config: Config;
/** A client with the compose processes' payload codec (PAYLOAD_KEYS): the workers encrypt results. */
let client: Client;
let workers: LocalProcess[] = [];

const workerIdentity = (p: LocalProcess) => `${p.pid}@${os.hostname()}`;
const workerHealth = (p: LocalProcess) => `http://127.0.0.1:${p.env.WORKER_HEALTH_PORT}/healthz`;
const start = (name: string, replica: number, overrides: Record<string, string> = {}) =>
  stack.start(name, replica, overrides);

beforeAll(async () => {
  isolated = await startIsolatedComposeStack('scale');
  stack = isolated.stack;
  pg = knexFactory({ client: 'pg', connection: isolated.databaseUrl, pool: { min: 0, max: 2 } });
  workers = stack.procs.filter((p) => p.name.startsWith('worker'));
  config = loadConfig(stack.byName('worker').env);
  client = await connectClient(config);
}, 240_000);

afterAll(async () => {
  await client?.connection.close();
  await pg?.destroy();
  await isolated?.stop();
}, 60_000);

const execute = (request = sampleTrip(), workflowId = `trip-${randomUUID()}`, taskQueue = config.temporal.taskQueue) =>
  client.workflow.execute(bookTrip, { taskQueue, workflowId, args: [request] });

/**
 * The worker that completed each step, in order: a regular activity's completion names it; a
 * local activity (every activity of bookTrip) ran in the worker that completed the workflow task
 * recording its marker.
 */
async function activityWorkers(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  let taskCompletedBy = '';
  return (history.events ?? []).flatMap((e) => {
    if (e.workflowTaskCompletedEventAttributes)
      taskCompletedBy = String(e.workflowTaskCompletedEventAttributes.identity);
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') return [taskCompletedBy];
    return e.activityTaskCompletedEventAttributes ? [String(e.activityTaskCompletedEventAttributes.identity)] : [];
  });
}

describe('the compose topology on PostgreSQL, NATS and a Temporal server', () => {
  it('confirms a trip through Temporal with its rows in each service schema of PostgreSQL', async () => {
    // Started with the trip's search attributes, which only works once the setup script registered them.
    const request = sampleTrip();
    const view = await client.workflow.execute(bookTrip, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `trip-${randomUUID()}`,
      args: [request],
      typedSearchAttributes: new TypedSearchAttributes([
        { key: TripStatusKey, value: 'PENDING' },
        { key: CustomerIdKey, value: request.customerId },
      ]),
    });
    expect(view.status).toBe('CONFIRMED');
    const audit = await auditTrip(config, view.tripId);
    expect(invariantViolations(view.status, audit)).toEqual([]);
    // The rows live in PostgreSQL, one schema per service (not in SQLite files).
    for (const schema of ['flight', 'hotel', 'car']) {
      const rows = await pg.withSchema(schema).table('reservations').where({ trip_id: view.tripId }).select('status');
      expect({ schema, rows }).toEqual({ schema, rows: [{ status: 'ACTIVE' }] });
    }
    expect(await pg.withSchema('payment').table('charges').where({ trip_id: view.tripId }).select('status')).toEqual([
      { status: 'CAPTURED' },
    ]);
    // The search attribute registered by the compose setup script is set by the workflow.
    const described = await client.workflow.getHandle(view.workflowId).describe();
    expect(described.typedSearchAttributes.get(TripStatusKey)).toBe('CONFIRMED');
    expect(described.typedSearchAttributes.get(CustomerIdKey)).toBe(request.customerId);
  });

  it('shares the trips between the worker replicas', async () => {
    expect(workers.length).toBe(stack.compose.services.worker?.deploy?.replicas);
    const views = await Promise.all(Array.from({ length: 12 }, () => execute()));
    expect(views.map((v) => v.status)).toEqual(views.map(() => 'CONFIRMED'));
    const identities = new Set((await Promise.all(views.map((v) => activityWorkers(v.workflowId)))).flat());
    expect([...identities].sort()).toEqual(workers.map(workerIdentity).sort());
    for (const w of workers) expect(await fetch(workerHealth(w)).then((r) => r.status)).toBe(200);
  });

  it('books through the trip API once per Idempotency-Key and announces it through relay, NATS and notifications', async () => {
    const api = stack.byName('api');
    const token = (api.env.API_TOKENS ?? '').split(',')[0]!.split(':')[0];
    const key = randomUUID();
    const post = () =>
      fetch(`http://127.0.0.1:${api.env.API_PORT}/trips`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'idempotency-key': key,
          'content-type': 'application/json',
          prefer: 'wait=30',
        },
        body: JSON.stringify(sampleTrip()),
      });
    const first = await post();
    const body = (await first.json()) as { tripId: string; status: string };
    expect({ status: first.status, trip: body.status }).toEqual({ status: 201, trip: 'CONFIRMED' });
    const again = (await (await post()).json()) as { tripId: string };
    expect(again.tripId).toBe(body.tripId);
    const audit = await auditTrip(config, body.tripId);
    expect(invariantViolations('CONFIRMED', audit)).toEqual([]);
    expect(audit.flight).toHaveLength(1);

    const emailsUrl = `${config.services.notifications.url}/emails?tripId=${encodeURIComponent(body.tripId)}`;
    const deadline = Date.now() + 30_000;
    let emails: Array<{ kind: string }> = [];
    while (emails.length === 0 && Date.now() < deadline) {
      emails = (await (await fetch(emailsUrl)).json()) as Array<{ kind: string }>;
      if (emails.length === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(emails.length).toBeGreaterThan(0);
  });

  it('lets a worker finish its in-flight activity on SIGTERM, then exit 0', async () => {
    const taskQueue = `drain-${randomUUID()}`;
    // A slow flight service (every request takes 3 s) and a worker of its own on its own queue.
    const slow = await start('flight', 1, { FAULTS: 'delay=3000' });
    await waitHealthy(slow, `http://127.0.0.1:${slow.env.FLIGHT_PORT}/healthz`);
    const slowFlight = { FLIGHT_URL: `http://127.0.0.1:${slow.env.FLIGHT_PORT}`, TEMPORAL_TASK_QUEUE: taskQueue };
    const first = await start('worker', 2, slowFlight);
    await waitHealthy(first, workerHealth(first));

    const workflowId = `trip-${randomUUID()}`;
    const handle = await client.workflow.start(bookTrip, { taskQueue, workflowId, args: [sampleTrip()] });
    const deadline = Date.now() + 30_000;
    // The flight step runs as a local activity: the workflow task running it is started.
    const running = (d: Awaited<ReturnType<typeof handle.describe>>) =>
      d.raw.pendingActivities?.some(
        (a) => String(a.state) === '2' || String(a.state) === 'PENDING_ACTIVITY_STATE_STARTED',
      ) ||
      String(d.raw.pendingWorkflowTask?.state) === '2' ||
      String(d.raw.pendingWorkflowTask?.state) === 'PENDING_WORKFLOW_TASK_STATE_STARTED';
    while (!running(await handle.describe())) {
      if (Date.now() > deadline) throw new Error('flight activity never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    // A started task is not yet a request in flight: wait until the slow service has received the
    // reservation (it then takes 3 s), so the signal lands while the call is running.
    const received = () =>
      slow
        .log()
        .split('\n')
        .some((l) => l.includes('"incoming request"') && l.includes('"url":"/reservations"'));
    while (!received()) {
      if (Date.now() > deadline) throw new Error('the flight service never received the reservation');
      await new Promise((r) => setTimeout(r, 50));
    }
    const signalledAt = Date.now();
    process.kill(first.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const draining = await fetch(workerHealth(first)).then(
      (r) => r.status,
      () => 'unreachable',
    );
    expect(await first.exited).toBe(0);
    expect(draining).toBe(503);
    expect(Date.now() - signalledAt).toBeGreaterThan(1500);
    const lines = first.log().split('\n');
    expect(lines.find((l) => l.includes('"worker draining"'))).toContain('"signal":"SIGTERM"');
    expect(lines.some((l) => l.includes('"worker stopped"'))).toBe(true);

    const second = await start('worker', 3, slowFlight);
    const view = await handle.result();
    expect(view.status).toBe('CONFIRMED');
    // The flight call that was in flight completed on the stopping worker: not cancelled, not retried.
    const completedBy = await activityWorkers(workflowId);
    expect(completedBy[0]).toBe(workerIdentity(first));
    // Each step completed once: the flight, then the rest, by the draining worker (it may finish
    // the local steps of the workflow task it was running) or by its replacement.
    expect(completedBy).toHaveLength(5);
    expect(completedBy.every((id) => [workerIdentity(first), workerIdentity(second)].includes(id))).toBe(true);
    const audit = await auditTrip(config, workflowId);
    expect(audit.flight).toHaveLength(1);
    expect(invariantViolations(view.status, audit)).toEqual([]);
  });
});
