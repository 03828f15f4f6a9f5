/** Tables of an inventory service: resources, per-day allocations and reservations. */
import type { Migration } from '../../db/migrations';
import { idempotencyMigration } from '../../idempotency/store';
import { outboxMigrations } from '../../outbox/outbox-table';
import { createKeyedTable } from '../keyed-rows';
import type { InventoryCatalog } from './catalog';

export function inventoryMigrations(catalog: InventoryCatalog<unknown>): Migration[] {
  return [
    idempotencyMigration,
    {
      name: '0002_inventory',
      async up(db) {
        await db.schema.createTable('resources', (t) => {
          t.string('id', 64).primary();
          t.integer('capacity_per_day').notNullable();
        });
        await db.schema.createTable('allocations', (t) => {
          t.string('resource_id', 64).notNullable();
          t.string('day', 10).notNullable();
          t.integer('capacity').notNullable();
          t.integer('reserved').notNullable().defaultTo(0);
          t.primary(['resource_id', 'day']);
        });
        await createKeyedTable(db, 'reservations', (t) => {
          t.string('resource_id', 64).notNullable();
          t.text('days').notNullable();
          t.integer('quantity').notNullable();
          t.text('details').notNullable();
        });
        await db('resources').insert(catalog.seed.map((s) => ({ id: s.id, capacity_per_day: s.capacityPerDay })));
      },
    },
    ...outboxMigrations,
  ];
}
