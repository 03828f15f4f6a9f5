/** Versioned schema changes, applied through knex's migrator from in-code migration lists. */
import type { Knex } from 'knex';

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

/** Applies the migrations not applied yet, in order; safe to call from several processes. */
export async function runMigrations(db: Knex, migrations: Migration[]): Promise<void> {
  const client = String(db.client.config.client);
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') {
    // Replicas (and the relay, which opens every service's schema) start together; knex's own
    // lock table cannot guard the creation of knex_migrations itself, so one advisory lock per
    // schema, held by a transaction on its own connection, serialises the whole migration.
    await db.transaction(async (trx) => {
      await trx.raw("select pg_advisory_xact_lock(hashtext('trip-saga-migrations:' || current_schema()))");
      await migrate(db, migrations);
    });
    return;
  }
  // SQLite has no advisory lock: processes opening one file together (the API, the worker's end
  // record, the relay) may race to create knex's tables. The loser retries; knex's lock table
  // then serialises the migrations themselves.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, migrations);
      return;
    } catch (err) {
      const racing = /already exists|already locked|SQLITE_BUSY|database is locked/i.test(
        String((err as Error).message),
      );
      if (!racing || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 200)));
    }
  }
}

async function migrate(db: Knex, migrations: Migration[]): Promise<void> {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  await db.migrate.latest({
    migrationSource: {
      getMigrations: async () => migrations.map((m) => m.name),
      getMigrationName: (name: string) => name,
      getMigration: async (name: string) => {
        const m = byName.get(name);
        if (!m) throw new Error(`unknown migration ${name}`);
        return { up: (k: Knex) => m.up(k), down: async () => undefined };
      },
    },
  });
}
