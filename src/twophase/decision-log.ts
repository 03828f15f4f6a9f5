/**
 * The coordinator's durable log (table `two_phase_trips`, schema `twophase`): a row is written
 * before the first prepare, the decision (COMMIT or ABORT) is written and committed before phase 2
 * starts, and the row is closed once every participant acknowledged. Recovery reads it.
 */
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations';
import type { TripRequest, TripView } from '../shared/trip';

export const DECISION_LOG_TABLE = 'two_phase_trips';

/** PREPARING (phase 1) → COMMITTING | ABORTING (decision logged, phase 2) → COMMITTED | ABORTED. */
export type LogStatus = 'PREPARING' | 'COMMITTING' | 'ABORTING' | 'COMMITTED' | 'ABORTED';
export type Decision = 'COMMIT' | 'ABORT';

export interface LogRow {
  trip_id: string;
  request: string;
  status: LogStatus;
  decision: Decision | null;
  view: string;
  created_at: number;
  decided_at: number | null;
  finished_at: number | null;
}

export const decisionLogMigrations: Migration[] = [
  {
    name: '0001_two_phase_trips',
    async up(db) {
      await db.schema.createTable(DECISION_LOG_TABLE, (t) => {
        t.string('trip_id', 200).primary();
        t.text('request').notNullable();
        t.string('status', 16).notNullable().index();
        t.string('decision', 8);
        t.text('view').notNullable();
        t.bigInteger('created_at').notNullable();
        t.bigInteger('decided_at');
        t.bigInteger('finished_at');
      });
    },
  },
];

export const UNFINISHED: readonly LogStatus[] = ['PREPARING', 'COMMITTING', 'ABORTING'];

export class DecisionLog {
  constructor(private readonly db: Knex) {}

  /** Logs a new trip; false if the trip id is logged already (a retried start). */
  async begin(tripId: string, request: TripRequest, view: TripView): Promise<boolean> {
    const inserted = await this.db(DECISION_LOG_TABLE)
      .insert({
        trip_id: tripId,
        request: JSON.stringify(request),
        status: 'PREPARING',
        view: JSON.stringify(view),
        created_at: Date.now(),
      })
      .onConflict('trip_id')
      .ignore()
      .returning('trip_id');
    return inserted.length === 1;
  }

  /**
   * Records the decision, durably, unless one is recorded already; returns the decision that holds
   * (a recovery presuming abort and a late commit cannot both win: the guard is the status).
   */
  async decide(tripId: string, decision: Decision, view: TripView): Promise<Decision> {
    const changed = await this.db(DECISION_LOG_TABLE)
      .where({ trip_id: tripId, status: 'PREPARING' })
      .update({
        decision,
        status: decision === 'COMMIT' ? 'COMMITTING' : 'ABORTING',
        decided_at: Date.now(),
        view: JSON.stringify(view),
      });
    if (changed === 1) return decision;
    const row = await this.find(tripId);
    if (!row?.decision) throw new Error(`two-phase trip ${tripId} is not in the decision log`);
    return row.decision;
  }

  async finish(tripId: string, view: TripView): Promise<void> {
    await this.db(DECISION_LOG_TABLE)
      .where({ trip_id: tripId })
      .whereIn('status', ['COMMITTING', 'ABORTING'])
      .update({
        status: view.status === 'CONFIRMED' ? 'COMMITTED' : 'ABORTED',
        finished_at: Date.now(),
        view: JSON.stringify(view),
      });
  }

  async find(tripId: string): Promise<LogRow | undefined> {
    return this.db<LogRow>(DECISION_LOG_TABLE).where({ trip_id: tripId }).first();
  }

  /** Trips whose protocol has not finished, oldest first. */
  async unfinished(limit = 100): Promise<LogRow[]> {
    return this.db<LogRow>(DECISION_LOG_TABLE).whereIn('status', UNFINISHED).orderBy('created_at').limit(limit);
  }
}
