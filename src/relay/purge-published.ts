/** Retention: published rows are kept `retentionMs` (for audit and re-drive), then deleted. */
import type { Knex } from 'knex';
import { OUTBOX_TABLE } from '../outbox/outbox-table';

/** Deletes published rows older than the retention age; returns how many. */
export async function purgePublished(db: Knex, retentionMs: number): Promise<number> {
  return db(OUTBOX_TABLE)
    .whereNotNull('published_at')
    .andWhere('published_at', '<', Date.now() - retentionMs)
    .delete();
}
