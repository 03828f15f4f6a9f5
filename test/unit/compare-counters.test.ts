/**
 * The compare bench's reading of knex query events: which statements are transactions of their
 * own, and the row-lock windows of local and prepared transactions.
 */
import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { watchDbs } from '../../bench/compare/counters';

const fakeDb = () => new EventEmitter() as unknown as Knex & EventEmitter;
const query = (db: EventEmitter, conn: string, sql: string, txId?: string) =>
  db.emit('query', { sql, __knexUid: conn, ...(txId ? { __knexTxId: txId } : {}) });

it('counts a BEGIN…COMMIT as one transaction and each statement outside one as its own', () => {
  const db = fakeDb();
  const watch = watchDbs([db]);
  query(db, 'c1', 'select * from "resources"');
  query(db, 'c1', 'BEGIN;', 'trx1');
  query(db, 'c1', 'insert into "allocations"', 'trx1');
  // A builder run with .transacting(trx) carries no transaction id: the open BEGIN decides.
  query(db, 'c1', 'update "idempotency_keys"');
  query(db, 'c1', 'COMMIT;');
  expect(watch.counts()).toEqual({ transactions: 2, statements: 5 });
  expect(watch.windows.local).toHaveLength(1);
  expect(watch.windows.prepared).toEqual([]);
});

it('times a prepared transaction from its BEGIN to the COMMIT PREPARED sent on another connection', async () => {
  const db = fakeDb();
  const watch = watchDbs([db]);
  query(db, 'c1', 'BEGIN;', 'trx1');
  query(db, 'c1', "PREPARE TRANSACTION 'tripsaga:trip-1:flight'", 'trx1');
  query(db, 'c1', 'COMMIT;');
  await new Promise((r) => setTimeout(r, 30));
  query(db, 'c2', "COMMIT PREPARED 'tripsaga:trip-1:flight'");
  expect(watch.windows.local).toEqual([]);
  expect(watch.windows.prepared).toHaveLength(1);
  expect(watch.windows.prepared[0]).toBeGreaterThanOrEqual(25);
  expect(watch.counts().transactions).toBe(2);
  watch.stop();
  query(db, 'c1', 'select 1');
  expect(watch.counts().statements).toBe(4);
});
