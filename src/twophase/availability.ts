/** Whether a database can take part in two-phase commit: PostgreSQL with prepared transactions on. */
import type { Knex } from 'knex';
import { dialectOf } from '../db/knex';
import { PREPARED_TRANSACTIONS_HELP } from './protocol';

/** Thrown (and answered as 503) when the flavour cannot run here; the message says what to set up. */
export class TwoPhaseUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`${reason}: ${PREPARED_TRANSACTIONS_HELP}`);
    this.name = 'TwoPhaseUnavailableError';
  }
}

/** Resolves when `db` can PREPARE TRANSACTION; throws TwoPhaseUnavailableError saying why not. */
export async function assertPreparedTransactions(db: Knex): Promise<void> {
  if (dialectOf(db) !== 'pg') throw new TwoPhaseUnavailableError('this database is SQLite, not PostgreSQL');
  const result = await db.raw<{ rows: Array<{ max_prepared_transactions: string }> }>('SHOW max_prepared_transactions');
  const max = Number(result.rows[0]?.max_prepared_transactions ?? 0);
  if (!(max > 0)) throw new TwoPhaseUnavailableError('this PostgreSQL server has max_prepared_transactions = 0');
}
