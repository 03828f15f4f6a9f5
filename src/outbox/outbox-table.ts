/**
 * The `outbox` table, in every database that emits events (each booking service and the trip
 * API). Columns follow Debezium's outbox router; `seq` gives "oldest first" and per-aggregate
 * order, `next_attempt_at`/`parked_at` carry the relay's backoff and parking.
 */
import type { Migration } from '../db/migrations';

export const OUTBOX_TABLE = 'outbox';

/** The PostgreSQL NOTIFY channel a writer wakes the relay on. */
export const OUTBOX_CHANNEL = 'trip_saga_outbox';

export const outboxMigration: Migration = {
  name: '0100_outbox',
  async up(db) {
    await db.schema.createTable(OUTBOX_TABLE, (t) => {
      t.increments('seq').primary();
      t.string('event_id', 36).notNullable().unique();
      t.string('aggregate_type', 64).notNullable();
      t.string('aggregate_id', 255).notNullable();
      t.string('event_type', 64).notNullable();
      t.text('payload').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('published_at');
      t.integer('attempts').notNullable().defaultTo(0);
      t.text('last_error');
      t.bigInteger('next_attempt_at').notNullable().defaultTo(0);
      t.bigInteger('parked_at');
      t.index(['published_at', 'parked_at', 'seq']);
      t.index(['aggregate_type', 'aggregate_id', 'seq']);
    });
    // Only events that failed and wait for a retry: tiny, so finding them is cheap.
    await db.raw(
      `CREATE INDEX outbox_retry_index ON ${OUTBOX_TABLE} (next_attempt_at) WHERE published_at IS NULL AND parked_at IS NULL`,
    );
  },
};
