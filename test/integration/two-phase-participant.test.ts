/**
 * One booking service's phase-two routes through app.inject() on a private PostgreSQL cluster: every
 * answer of /2pc/commit and /2pc/rollback, including the retries after a lost reply and the mistakes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Db } from '../../src/db/knex';
import { buildApp, migrationsFor } from '../../src/services/booking-service';
import { startPrivatePostgres, type PrivatePostgres } from '../../src/testkit/private-postgres';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { gidFor } from '../../src/twophase/protocol';

let cluster: PrivatePostgres;
let dataDir: string;
let db: Db;
let flight: FastifyInstance;

beforeAll(async () => {
  cluster = await startPrivatePostgres();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-2pc-'));
  const config = { dataDir, databaseUrl: await cluster.createDatabase('participant') };
  db = await openDatabase('flight', config, { migrations: migrationsFor('flight') });
  flight = buildApp({ name: 'flight', db });
});
afterAll(async () => {
  await flight?.close();
  await db?.destroy();
  cluster?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const newTripId = () => `trip-2pc-${randomUUID()}`;
const post = (url: string, payload: object) => flight.inject({ method: 'POST', url, payload });
const prepare = async (tripId: string) => {
  const res = await post('/2pc/prepare', {
    gid: gidFor(tripId, 'flight'),
    request: { tripId, ...sampleTrip().flight },
  });
  expect(res.json()).toMatchObject({ vote: 'YES', state: 'PREPARED' });
};
const answer = (res: { statusCode: number; json: () => unknown }) => [res.statusCode, res.json()];

describe('phase two of a flight participant', () => {
  it('commits a prepared booking, then answers a retried commit ALREADY_COMMITTED and refuses to roll it back', async () => {
    const tripId = newTripId();
    const gid = gidFor(tripId, 'flight');
    await prepare(tripId);
    expect(answer(await post('/2pc/commit', { gid }))).toEqual([200, { gid, outcome: 'COMMITTED' }]);
    expect(await db('reservations').where({ trip_id: tripId })).toHaveLength(1);
    expect(answer(await post('/2pc/commit', { gid }))).toEqual([200, { gid, outcome: 'ALREADY_COMMITTED' }]);
    expect(answer(await post('/2pc/rollback', { gid }))).toEqual([
      409,
      expect.objectContaining({ status: 409, code: 'ALREADY_COMMITTED', title: 'Already committed', detail: gid }),
    ]);
    expect(await db('reservations').where({ trip_id: tripId })).toHaveLength(1);
  });

  it('rolls a prepared booking back, then answers a retried rollback NOTHING_PREPARED and refuses to commit it', async () => {
    const tripId = newTripId();
    const gid = gidFor(tripId, 'flight');
    await prepare(tripId);
    expect(answer(await post('/2pc/rollback', { gid }))).toEqual([200, { gid, outcome: 'ROLLED_BACK' }]);
    expect(answer(await post('/2pc/rollback', { gid }))).toEqual([200, { gid, outcome: 'NOTHING_PREPARED' }]);
    expect(answer(await post('/2pc/commit', { gid }))).toEqual([
      409,
      expect.objectContaining({ status: 409, code: 'NOT_PREPARED', title: 'Nothing prepared to commit', detail: gid }),
    ]);
    expect(await db('reservations').where({ trip_id: tripId })).toHaveLength(0);
  });

  it.each(['commit', 'rollback'])('refuses a %s without a gid or with the gid of another service', async (phase) => {
    expect(answer(await post(`/2pc/${phase}`, {}))).toEqual([
      400,
      expect.objectContaining({ code: 'INVALID_REQUEST', title: `Invalid ${phase} request` }),
    ]);
    const hotelGid = gidFor(newTripId(), 'hotel');
    expect(answer(await post(`/2pc/${phase}`, { gid: hotelGid }))).toEqual([
      400,
      expect.objectContaining({ code: 'INVALID_GID', title: 'Not a transaction id of this service', detail: hotelGid }),
    ]);
  });
});
