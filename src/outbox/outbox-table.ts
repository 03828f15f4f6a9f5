/**
 * The `outbox` table, in every database that emits events (each booking service and the trip
 * API). Columns follow Debezium's outbox router; `seq` gives "oldest first" and per-aggregate
 * order, `next_attempt_at`/`parked_at` carry the relay's backoff and parking.
 */
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations';

export const OUTBOX_TABLE = 'outbox';

/** The PostgreSQL NOTIFY channel a writer wakes the relay on. */
export const OUTBOX_CHANNEL = 'trip_saga_outbox';

/**
 * A transaction-local setting: `off` keeps the wake trigger from notifying in this transaction
 * (one that will be PREPAREd may not NOTIFY; its writer wakes the relay after COMMIT PREPARED).
 */
export const NOTIFY_SETTING = 'trip_saga.outbox_notify';

/** One row: whether a relay is idle and wants a NOTIFY at the next insert (PostgreSQL only). */
export const OUTBOX_WAKE_TABLE = 'outbox_wake';

/**
 * The columns that name an event, shared by the outbox (events to send) and every inbox (events
 * applied): `seq` for order, the event id (unique: one row per event), and its aggregate and type.
 */
export function eventColumns(t: Knex.CreateTableBuilder): void {
  t.increments('seq').primary();
  t.string('event_id', 36).notNullable().unique();
  t.string('aggregate_type', 64).notNullable();
  t.string('aggregate_id', 255).notNullable();
  t.string('event_type', 64).notNullable();
  t.index(['aggregate_type', 'aggregate_id', 'seq']);
}

const isPg = (db: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(db.client.config.client));

export const outboxMigration: Migration = {
  name: '0100_outbox',
  async up(db) {
    await db.schema.createTable(OUTBOX_TABLE, (t) => {
      eventColumns(t);
      t.text('payload').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('published_at');
      t.integer('attempts').notNullable().defaultTo(0);
      t.text('last_error');
      t.bigInteger('next_attempt_at').notNullable().defaultTo(0);
      t.bigInteger('parked_at');
      t.index(['published_at', 'parked_at', 'seq']);
    });
    // Only events that failed and wait for a retry: tiny, so finding them is cheap.
    await db.raw(
      `CREATE INDEX outbox_retry_index ON ${OUTBOX_TABLE} (next_attempt_at) WHERE published_at IS NULL AND parked_at IS NULL`,
    );
  },
};

/**
 * What the relay's claim reads at depth, as partial indexes over unpublished rows only (published
 * rows kept for the retention never enter them): the oldest unpublished events (`seq`), the
 * oldest unpublished event of one aggregate, and the few aggregates waiting in backoff or parked.
 * On PostgreSQL, `seq` becomes 64-bit, and writers wake an idle relay with one NOTIFY per insert
 * statement, only while a relay says it is idle (a NOTIFY serialises the commits that send one).
 */
export const outboxClaimMigration: Migration = {
  name: '0101_outbox_claim_indexes_bigint_wake',
  async up(db) {
    await db.raw(`CREATE INDEX outbox_unpublished_seq ON ${OUTBOX_TABLE} (seq) WHERE published_at IS NULL`);
    await db.raw(
      `CREATE INDEX outbox_unpublished_aggregate ON ${OUTBOX_TABLE} (aggregate_type, aggregate_id, seq) WHERE published_at IS NULL`,
    );
    await db.raw(
      `CREATE INDEX outbox_waiting_aggregate ON ${OUTBOX_TABLE} (aggregate_type, aggregate_id)
       WHERE published_at IS NULL AND (parked_at IS NOT NULL OR next_attempt_at > 0)`,
    );
    if (!isPg(db)) return;
    // Rewrites the table once on an existing database (an exclusive lock for its duration).
    await db.raw(`ALTER TABLE ${OUTBOX_TABLE} ALTER COLUMN seq TYPE bigint`);
    await db.raw(`ALTER SEQUENCE ${OUTBOX_TABLE}_seq_seq AS bigint MAXVALUE 9223372036854775807`);
    await db.raw(`CREATE TABLE ${OUTBOX_WAKE_TABLE} (id int PRIMARY KEY CHECK (id = 1), relay_idle boolean NOT NULL)`);
    await db.raw(`INSERT INTO ${OUTBOX_WAKE_TABLE} (id, relay_idle) VALUES (1, true)`);
    await db.raw(`
      CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce(current_setting('${NOTIFY_SETTING}', true), '') <> 'off'
           AND EXISTS (SELECT 1 FROM ${OUTBOX_WAKE_TABLE} WHERE relay_idle) THEN
          PERFORM pg_notify('${OUTBOX_CHANNEL}', current_schema());
        END IF;
        RETURN NULL;
      END $$`);
    await db.raw(
      `CREATE TRIGGER outbox_wake_relay AFTER INSERT ON ${OUTBOX_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay()`,
    );
  },
};

/**
 * The W3C `traceparent` of the span that appended the event (null while tracing is off): the
 * relay publishes the event as that span's child, so a trip's trace runs on to its consumers.
 */
export const outboxTraceparentMigration: Migration = {
  name: '0102_outbox_traceparent',
  async up(db) {
    await db.schema.alterTable(OUTBOX_TABLE, (t) => t.string('traceparent', 128).nullable());
  },
};

/** Every migration of the outbox, in order: append these to a database's migration list. */
export const outboxMigrations: Migration[] = [outboxMigration, outboxClaimMigration, outboxTraceparentMigration];
