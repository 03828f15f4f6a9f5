/** Versioned schema changes, applied through knex's migrator from in-code migration lists. */
import type { Knex } from 'knex';

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

/** Applies the migrations not applied yet, in order; safe to call from several processes. */
export async function runMigrations(db: Knex, migrations: Migration[]): Promise<void> {
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

/** Current time in milliseconds since the epoch, stored as a bigint in every table. */
export const nowMs = (): number => Date.now();
