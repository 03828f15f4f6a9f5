/** The SQLite statement cache (src/db/knex.ts): one prepare per SQL text, savepoints never kept. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheStatements, openDatabase } from '../../src/db/knex';

function fakeConnection() {
  const prepared: string[] = [];
  const conn = {
    pragma: () => undefined,
    prepare: (source: string): unknown => {
      prepared.push(source);
      return { source, n: prepared.length };
    },
  };
  return { conn, prepared };
}

it('prepares each SQL text once and hands back the same statement', () => {
  const { conn, prepared } = fakeConnection();
  cacheStatements(conn, 3);
  const first = conn.prepare('select 1');
  expect(conn.prepare('select 1')).toBe(first);
  conn.prepare('select 2');
  expect(prepared).toEqual(['select 1', 'select 2']);
});

it('drops the least recently used statement past its size', () => {
  const { conn, prepared } = fakeConnection();
  cacheStatements(conn, 2);
  conn.prepare('a');
  conn.prepare('b');
  conn.prepare('a'); // a is now the most recent
  conn.prepare('c'); // evicts b
  conn.prepare('a');
  conn.prepare('b');
  expect(prepared).toEqual(['a', 'b', 'c', 'b']);
});

it('does not keep savepoints, whose names change with every transaction', () => {
  const { conn, prepared } = fakeConnection();
  cacheStatements(conn, 10);
  for (let i = 0; i < 2; i++) {
    conn.prepare('SAVEPOINT trx1');
    conn.prepare('RELEASE SAVEPOINT trx1');
    conn.prepare('ROLLBACK TO SAVEPOINT trx1');
  }
  expect(prepared).toHaveLength(6);
});

it('gives the same answers through knex on a real SQLite file, savepoints and rollbacks included', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-stmt-'));
  const db = await openDatabase(
    'flight',
    { dataDir: dir, databaseUrl: undefined },
    {
      name: 'cache-test',
      migrations: [
        {
          name: '0001_t',
          up: async (k) => {
            await k.schema.createTable('t', (t) => {
              t.integer('id').primary();
              t.string('v');
            });
          },
        },
      ],
    },
  );
  try {
    for (let i = 1; i <= 5; i++) {
      await db.transaction(async (trx) => {
        await trx('t').insert({ id: i, v: `v${i}` });
        // A refused inner step rolls back to its savepoint; the outer write stays.
        await trx
          .transaction(async (inner) => {
            await inner('t').insert({ id: 100 + i, v: 'gone' });
            throw new Error('refused');
          })
          .catch(() => undefined);
      });
    }
    expect(await db('t').orderBy('id').pluck('v')).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(await db('t').where({ id: 3 }).first()).toEqual({ id: 3, v: 'v3' });
    expect(await db('t').where({ id: 4 }).first()).toEqual({ id: 4, v: 'v4' });
  } finally {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
