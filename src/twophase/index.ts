export { TwoPhaseUnavailableError, assertPreparedTransactions } from './availability';
export { TwoPhaseCoordinator, initialTwoPhaseView, type CoordinatorStats } from './coordinator';
export { buildCoordinatorApp } from './coordinator-app';
export { DecisionLog, decisionLogMigrations } from './decision-log';
export { gidFor, parseGid, PREPARED_TRANSACTIONS_HELP } from './protocol';
export { readTwoPhaseTrip, startTwoPhaseTrip, TwoPhaseCoordinatorUnreachableError } from './trips';
