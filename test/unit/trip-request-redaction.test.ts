/** The API database never holds a full payment token: only its last characters. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openDatabase, type Db } from '../../src/db/knex';
import { initialView } from '../../src/shared/trip';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { recordTripOutcome } from '../../src/trips/trip-outcome';
import { apiMigrations, findTrip, insertTrip, openApiDatabase } from '../../src/trips/trip-records';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-redact-'));
  dirs.push(dir);
  return dir;
};
let db: Db;
beforeAll(async () => {
  db = await openApiDatabase({ dataDir: tempDir() });
});
afterAll(async () => {
  await db?.destroy();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const rawRequest = async (d: Db, tripId: string) =>
  ((await d('trips').where({ trip_id: tripId }).first()) as { request: string }).request;

it('stores the request the API records with the token masked to its last four characters', async () => {
  const tripId = `trip-${randomUUID()}`;
  await insertTrip(db, { tripId, principal: 'alice', request: sampleTrip(), status: 'PENDING' });
  const raw = await rawRequest(db, tripId);
  expect(raw).not.toContain('tok_visa');
  expect((await findTrip(db, tripId))?.request.payment).toEqual({
    token: '…visa',
    amountCents: 123400,
    currency: 'USD',
  });
});

it('stores the request the worker records (end record first) with the token masked too', async () => {
  const tripId = `trip-${randomUUID()}`;
  await recordTripOutcome(db, { ...initialView(tripId), status: 'CONFIRMED' }, sampleTrip());
  expect(await rawRequest(db, tripId)).not.toContain('tok_visa');
});

it('masks the tokens of rows written before the redaction when the database is migrated', async () => {
  const dataDir = tempDir();
  const before = apiMigrations.filter((m) => m.name !== '0101_trips_redact_payment_token');
  const old = await openDatabase('api', { dataDir }, { migrations: before });
  const tripId = `trip-${randomUUID()}`;
  await old('trips').insert({
    trip_id: tripId,
    principal: 'alice',
    customer_id: 'cust-42',
    status: 'CONFIRMED',
    request: JSON.stringify(sampleTrip()),
    view: null,
    created_at: 1,
    updated_at: 1,
  });
  expect(await rawRequest(old, tripId)).toContain('tok_visa');
  await old.destroy();
  const migrated = await openApiDatabase({ dataDir });
  try {
    expect(await rawRequest(migrated, tripId)).not.toContain('tok_visa');
    expect((await findTrip(migrated, tripId))?.request.payment.token).toBe('…visa');
  } finally {
    await migrated.destroy();
  }
});
