/**
 * The stack `npm run fuzz` runs against: Temporal dev server, the four booking services and a
 * worker (src/testkit/stack.ts), plus the trip API and the notifications service, on SQLite
 * under a temp dir or on a PostgreSQL database of its own. Two trips are booked first, so the
 * cases that name a trip reach past "not found".
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { buildApp } from '../../api/app';
import type { Db } from '../../db/knex';
import { OUTBOX_TABLE } from '../../outbox/outbox-table';
import {
  startNotificationsService,
  type RunningNotifications,
} from '../../services/notifications/notifications-service';
import { openApiDatabase } from '../../trips/trip-records';
import { sampleTrip } from '../sample-trip';
import { startStack, type Stack } from '../stack';
import type { FuzzSurface, FuzzTarget } from './run-fuzz';
import type { SurfaceName } from './templates';

export interface FuzzStack extends FuzzTarget {
  stack: Stack;
  stop(): Promise<void>;
}

/** Per table: the aggregates any insert, delete or status/claim update changes. */
const DIGESTS: Record<string, string[]> = {
  idempotency_keys: [
    'count(*)',
    'count(response_status)',
    'coalesce(sum(last_run_at), 0)',
    'coalesce(sum(locked_at), 0)',
  ],
  trips: ['count(*)', 'coalesce(sum(updated_at), 0)', 'count(principal)'],
  reservations: ['count(*)', 'coalesce(sum(updated_at), 0)'],
  charges: ['count(*)', 'coalesce(sum(updated_at), 0)'],
  allocations: ['count(*)', 'coalesce(sum(reserved), 0)'],
  [OUTBOX_TABLE]: ['count(*)'],
  inbox: ['count(*)'],
  emails: ['count(*)'],
};

const TABLES: Record<SurfaceName, string[]> = {
  api: ['idempotency_keys', 'trips', OUTBOX_TABLE],
  flight: ['idempotency_keys', 'reservations', 'allocations', OUTBOX_TABLE],
  hotel: ['idempotency_keys', 'reservations', 'allocations', OUTBOX_TABLE],
  car: ['idempotency_keys', 'reservations', 'allocations', OUTBOX_TABLE],
  payment: ['idempotency_keys', 'charges', OUTBOX_TABLE],
  notifications: ['inbox', 'emails'],
};

function digestOf(db: Knex, tables: string[]): () => Promise<string> {
  const columns = tables.flatMap((t) =>
    (DIGESTS[t] ?? ['count(*)']).map((agg, i) => db.raw(`(select ${agg} from ??) as ??`, [t, `${t}_${i}`])),
  );
  return async () => {
    const [row] = (await db.select(columns)) as Array<Record<string, unknown>>;
    return Object.values(row ?? {})
      .map((v) => String(v))
      .join(',');
  };
}

export async function startFuzzStack(options: { databaseUrl?: string } = {}): Promise<FuzzStack> {
  const stack = await startStack({ databaseUrl: options.databaseUrl });
  let apiDb: Db | undefined;
  let api: FastifyInstance | undefined;
  let notifications: RunningNotifications | undefined;
  const stop = async () => {
    await api?.close();
    await apiDb?.destroy();
    await notifications?.close();
    await stack.stop();
  };
  try {
    const token = `fuzz-${randomUUID()}`;
    apiDb = await openApiDatabase(stack.config);
    api = buildApp({
      db: apiDb,
      temporalClient: stack.client,
      config: stack.config,
      tokens: new Map([[token, 'fuzzer']]),
    });
    const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    notifications = await startNotificationsService(stack.config, { port: 0 });
    const tripIds: string[] = [];
    for (const customerId of ['fuzz-a', 'fuzz-b']) {
      const res = await fetch(`${apiUrl}/trips`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
          prefer: 'wait=30',
        },
        body: JSON.stringify(sampleTrip({ customerId })),
      });
      const body = (await res.json()) as { tripId?: string; status?: string };
      if (res.status !== 201 || !body.tripId) throw new Error(`fixture trip: ${res.status} ${JSON.stringify(body)}`);
      tripIds.push(body.tripId);
    }
    const port = (url: string) => Number(new URL(url).port);
    const surface = (url: string, db: Knex, name: SurfaceName): FuzzSurface => ({
      port: port(url),
      digest: digestOf(db, TABLES[name]),
    });
    const services = stack.services as Required<Stack['services']>;
    const db = apiDb;
    return {
      stack,
      stop,
      context: { apiToken: token, tripIds },
      webhookSecret: stack.config.outbox.webhookSecret,
      surfaces: {
        api: surface(apiUrl, db, 'api'),
        flight: surface(services.flight.url, services.flight.db, 'flight'),
        hotel: surface(services.hotel.url, services.hotel.db, 'hotel'),
        car: surface(services.car.url, services.car.db, 'car'),
        payment: surface(services.payment.url, services.payment.db, 'payment'),
        notifications: surface(notifications.url, notifications.db, 'notifications'),
      },
      async drain() {
        // Quiet twice in a row: visibility lags a just-started run by a moment.
        const deadline = Date.now() + 120_000;
        let quiet = 0;
        while (quiet < 2 && Date.now() < deadline) {
          const { count } = await stack.client.workflow.count('ExecutionStatus = "Running"');
          quiet = count === 0 ? quiet + 1 : 0;
          await new Promise((r) => setTimeout(r, 250));
        }
        if (quiet < 2) throw new Error('sagas still running 120 s after the last accepted request');
      },
      async orphans() {
        const known = new Set((await db('trips').select('trip_id')).map((r: { trip_id: string }) => r.trip_id));
        const found: string[] = [];
        for await (const wf of stack.client.workflow.list({ query: `WorkflowType = 'bookTrip'` })) {
          if (!known.has(wf.workflowId)) found.push(`workflow ${wf.workflowId} started with no trip recorded`);
        }
        return found;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
