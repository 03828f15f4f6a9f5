/**
 * Flags every `temporal server start-dev` of this project runs with (the embedded stack, the test
 * harness and the bench). The dev server keeps its history in SQLite, by default in rollback-journal
 * mode with a full fsync per commit: WAL with synchronous=normal commits a workflow task several
 * times faster (docs/performance.md has the measurements). A crash of the machine can lose the last
 * commits of a dev server's file, never corrupt it; production runs a real Temporal cluster.
 */
export const DEV_SERVER_SQLITE_PRAGMA_ARGS: string[] = [
  '--sqlite-pragma',
  'journal_mode=wal',
  '--sqlite-pragma',
  'synchronous=normal',
];

/** Lets a client that shares its connection with a worker start a run on that worker at once. */
export const DEV_SERVER_EAGER_START_ARGS: string[] = ['--dynamic-config-value', 'system.enableEagerWorkflowStart=true'];

/** Everything above: what the project's dev servers add to their own arguments. */
export const DEV_SERVER_PERFORMANCE_ARGS: string[] = [...DEV_SERVER_SQLITE_PRAGMA_ARGS, ...DEV_SERVER_EAGER_START_ARGS];
