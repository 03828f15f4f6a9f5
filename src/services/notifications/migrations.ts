/** Tables of the notifications service: the inbox (one row per event ever applied) and the emails sent. */
import type { Migration } from '../../db/migrations';
import { createInboxTable } from '../../inbox/inbox';

/** The notifications service's inbox (src/inbox/inbox.ts's shape). */
export const NOTIFICATIONS_INBOX_TABLE = 'inbox';

export const notificationsMigrations: Migration[] = [
  {
    name: '0001_inbox_emails',
    async up(db) {
      await createInboxTable(db, NOTIFICATIONS_INBOX_TABLE);
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
