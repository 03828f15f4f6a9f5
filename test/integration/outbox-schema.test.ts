/**
 * The outbox schema on PostgreSQL: an existing database (created before `seq` was 64-bit) is
 * migrated in place and numbers events past 2^31; writers NOTIFY only while a relay said it is idle.
 */
import { randomUUID } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { runMigrations } from '../../src/db/migrations';
import { appendEvent } from '../../src/outbox/append-event';
import { OUTBOX_CHANNEL, outboxMigration, outboxMigrations } from '../../src/outbox/outbox-table';
import { listenForOutbox, setRelayIdle } from '../../src/relay/outbox-listener';
import { createTestDatabase, type TestDatabase } from '../../src/testkit/pg';

let pg: TestDatabase;
let db: Knex;
beforeAll(async () => {
  pg = await createTestDatabase('outbox_schema');
  db = knexFactory({ client: 'pg', connection: pg.url, pool: { min: 0, max: 4 } });
});
afterAll(async () => {
  await db?.destroy();
  await pg?.drop();
});

const append = (aggregateId: string) =>
  db.transaction((trx) =>
    appendEvent(trx, { aggregateType: 'charge', aggregateId, eventType: 'ChargeRefunded', payload: {} }),
  );

it('migrates an existing outbox to a 64-bit seq, keeping its rows, and numbers events past 2^31', async () => {
  await runMigrations(db, [outboxMigration]);
  const before = await append(`charge-${randomUUID()}`);
  await runMigrations(db, outboxMigrations);
  const column = (await db.raw(
    "SELECT data_type FROM information_schema.columns WHERE table_name = 'outbox' AND column_name = 'seq'",
  )) as { rows: Array<{ data_type: string }> };
  expect(column.rows[0]?.data_type).toBe('bigint');
  expect(await db('outbox').where({ event_id: before }).first()).toMatchObject({ seq: 1 });
  await db.raw("SELECT setval('outbox_seq_seq', 2147483647)");
  const after = await append(`charge-${randomUUID()}`);
  expect(((await db('outbox').where({ event_id: after }).first()) as { seq: number }).seq).toBe(2 ** 31);
});

it('sends a NOTIFY at an insert only while a relay says it is idle', async () => {
  const received: string[] = [];
  const unlisten = await listenForOutbox(db, (schema) => received.push(schema));
  try {
    await setRelayIdle(db, true);
    await append('charge-idle');
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(['public']);

    await setRelayIdle(db, false);
    await append('charge-busy');
    // A marker NOTIFY sent after the insert committed arrives after any NOTIFY the insert sent.
    await db.raw('SELECT pg_notify(?, ?)', [OUTBOX_CHANNEL, 'marker']);
    while (!received.includes('marker') && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(['public', 'marker']);
  } finally {
    await unlisten();
  }
});
