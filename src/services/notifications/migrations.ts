/** Tables of the notifications service: the inbox (one row per event ever applied) and the emails sent. */
import type { Migration } from '../../db/migrations';

export const notificationsMigrations: Migration[] = [
  {
    name: '0001_inbox_emails',
    async up(db) {
      await db.schema.createTable('inbox', (t) => {
        t.increments('seq').primary();
        t.string('event_id', 36).notNullable().unique();
        t.string('source', 32).notNullable();
        t.string('aggregate_type', 64).notNullable();
        t.string('aggregate_id', 255).notNullable();
        t.string('event_type', 64).notNullable();
        t.bigInteger('event_created_at').notNullable();
        t.bigInteger('received_at').notNullable();
        t.index(['aggregate_type', 'aggregate_id', 'seq']);
      });
      await db.schema.createTable('emails', (t) => {
        t.string('id', 36).primary();
        t.string('event_id', 36).notNullable().unique();
        t.string('trip_id', 255).notNullable().index();
        t.string('kind', 32).notNullable();
        t.string('recipient', 255).notNullable();
        t.string('subject', 255).notNullable();
        t.text('body').notNullable();
        t.bigInteger('created_at').notNullable();
      });
    },
  },
];
