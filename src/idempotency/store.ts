/**
 * The one idempotency store (services and trip API alike): an atomic claim of (scope, key) in the
 * owner's own database, the stored response replayed on retries, a fingerprint that refuses a key
 * reused for another request, a lock that a crashed owner's successor may take over, and
 * tombstones for compensations that arrive before the request they undo.
 */
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations';

export const IDEMPOTENCY_TABLE = 'idempotency_keys';

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ClaimRequest {
  /** Who the key belongs to (a principal for the API, the service name for internal callers). */
  scope: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

export type ClaimResult =
  /** `token` (the claim's locked_at) fences complete/abandon against a successor's claim. */
  | { kind: 'claimed'; takeover: boolean; token: number }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch'; method: string; path: string }
  | { kind: 'in-flight'; retryAfterSeconds: number }
  | { kind: 'tombstoned' };

export interface IdempotencyStoreOptions {
  /** A claim whose owner has not finished after this long is presumed dead and may be taken over. */
  lockTimeoutMs: number;
  /** Keys are kept at least this long, then purged. */
  retentionMs: number;
  now?: () => number;
}

export interface IdempotencyRecord {
  scope: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
  tombstone: boolean | number;
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  locked_at: number | null;
  created_at: number;
  last_run_at: number;
}

const TOMBSTONE_FINGERPRINT = 'tombstone';

export const idempotencyMigration: Migration = {
  name: '0001_idempotency_keys',
  async up(db) {
    await db.schema.createTable(IDEMPOTENCY_TABLE, (t) => {
      t.string('scope', 255).notNullable();
      t.string('key', 255).notNullable();
      t.string('method', 16).notNullable();
      t.string('path', 2048).notNullable();
      t.string('fingerprint', 128).notNullable();
      t.boolean('tombstone').notNullable().defaultTo(false);
      t.integer('response_status');
      t.text('response_headers');
      t.text('response_body');
      t.bigInteger('locked_at');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('last_run_at').notNullable();
      t.primary(['scope', 'key']);
      t.index(['created_at']);
    });
  },
};

export class IdempotencyStore {
  private readonly now: () => number;

  constructor(
    private readonly db: Knex,
    private readonly options: IdempotencyStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Claims the key atomically (INSERT … ON CONFLICT DO NOTHING RETURNING). Inside a transaction
   * (`trx`) a concurrent claimer on PostgreSQL waits for this one to commit and then replays.
   */
  async claim(req: ClaimRequest, trx: Knex = this.db): Promise<ClaimResult> {
    const now = this.now();
    const inserted = await trx(IDEMPOTENCY_TABLE)
      .insert({
        scope: req.scope,
        key: req.key,
        method: req.method,
        path: req.path,
        fingerprint: req.fingerprint,
        tombstone: false,
        locked_at: now,
        created_at: now,
        last_run_at: now,
      })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    if (inserted.length > 0) return { kind: 'claimed', takeover: false, token: now };

    const row = await this.find(req.scope, req.key, trx);
    if (!row) {
      // Purged between our insert and read: claim again.
      return this.claim(req, trx);
    }
    if (row.tombstone) return { kind: 'tombstoned' };
    if (row.fingerprint !== req.fingerprint) return { kind: 'mismatch', method: row.method, path: row.path };
    if (row.response_status !== null) return { kind: 'replay', response: toResponse(row) };

    const lockedAt = row.locked_at ?? 0;
    if (now - lockedAt >= this.options.lockTimeoutMs) {
      // The owner is presumed dead; take over only if nobody else did meanwhile.
      const taken = await trx(IDEMPOTENCY_TABLE)
        .where({ scope: req.scope, key: req.key, locked_at: row.locked_at })
        .whereNull('response_status')
        .update({ locked_at: now, last_run_at: now });
      if (taken === 1) return { kind: 'claimed', takeover: true, token: now };
    }
    const remainingMs = Math.max(0, lockedAt + this.options.lockTimeoutMs - now);
    return { kind: 'in-flight', retryAfterSeconds: Math.max(1, Math.min(5, Math.ceil(remainingMs / 1000))) };
  }

  /**
   * Stores the final response of a claimed key; later claims replay it. With `token` (the claim's
   * fencing token) only while that claim still holds the lock; returns whether it was stored.
   */
  async complete(
    scope: string,
    key: string,
    response: StoredResponse,
    trx: Knex = this.db,
    token?: number,
  ): Promise<boolean> {
    const updated = await this.held(trx, scope, key, token).update({
      response_status: response.status,
      response_headers: JSON.stringify(response.headers),
      response_body: response.body,
      locked_at: null,
      last_run_at: this.now(),
    });
    return updated > 0;
  }

  /**
   * Replaces the stored success (2xx) of a completed key with a later answer, because what the
   * key did has since been undone: its retries must not replay a success that no longer holds.
   * A refusal stays as it was. Returns whether it was replaced.
   */
  async supersede(scope: string, key: string, response: StoredResponse, trx: Knex = this.db): Promise<boolean> {
    const updated = await trx(IDEMPOTENCY_TABLE)
      .where({ scope, key })
      .whereBetween('response_status', [200, 299])
      .update({
        response_status: response.status,
        response_headers: JSON.stringify(response.headers),
        response_body: response.body,
      });
    return updated > 0;
  }

  /**
   * Gives up a claim whose work may have had effects: the key stays (another body is still
   * refused), but its lock is expired at once so a retry of the same request takes it over.
   */
  async abandon(scope: string, key: string, token: number, trx: Knex = this.db): Promise<void> {
    await this.held(trx, scope, key, token).update({ locked_at: this.now() - this.options.lockTimeoutMs });
  }

  /** The unfinished record of (scope, key), and only while `token` (if given) still holds it. */
  private held(trx: Knex, scope: string, key: string, token: number | undefined) {
    const q = trx(IDEMPOTENCY_TABLE).where({ scope, key }).whereNull('response_status');
    return token === undefined ? q : q.where({ locked_at: token });
  }

  /**
   * Leaves a tombstone for a key whose request has not arrived; returns false when the key is
   * already taken (the forward request came first, so the caller must undo what it did).
   */
  async tombstone(scope: string, key: string, trx: Knex = this.db): Promise<boolean> {
    const now = this.now();
    const inserted = await trx(IDEMPOTENCY_TABLE)
      .insert({
        scope,
        key,
        method: 'TOMBSTONE',
        path: '',
        fingerprint: TOMBSTONE_FINGERPRINT,
        tombstone: true,
        locked_at: null,
        created_at: now,
        last_run_at: now,
      })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    return inserted.length > 0;
  }

  async find(scope: string, key: string, trx: Knex = this.db): Promise<IdempotencyRecord | undefined> {
    return trx<IdempotencyRecord>(IDEMPOTENCY_TABLE).where({ scope, key }).first();
  }

  /** Deletes keys older than the retention period (tombstones included); returns how many. */
  async purgeExpired(): Promise<number> {
    const cutoff = this.now() - this.options.retentionMs;
    return this.db(IDEMPOTENCY_TABLE).where('created_at', '<', cutoff).delete();
  }
}

/** The stored response of a completed record. */
export function toResponse(row: IdempotencyRecord): StoredResponse {
  return {
    status: row.response_status ?? 500,
    headers: row.response_headers ? (JSON.parse(row.response_headers) as Record<string, string>) : {},
    body: row.response_body ?? '',
  };
}
