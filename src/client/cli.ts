/**
 * `npm run client -- <command>`: book, inspect, cancel and list trips through Temporal.
 *   book <trip.json> [--id ID] [--wait] [--json]   status <tripId> [--json]
 *   cancel <tripId> [--json]                        list [--status S] [--limit N] [--json]
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { FailureType } from '../shared/failures';
import { parseTripRequest } from '../shared/trip-schema';
import { TripIdError, tripWorkflowId } from '../shared/trip-ids';
import { TRIP_STATUSES, workflowIdFor, type TripStatus, type TripView } from '../shared/trip';
import { connectClient } from '../temporal/connection';
import { readTrip, runUrl, TripNotFoundError } from '../trips/trip-view';
import { cancelAnyTrip, endedByCancel, readCancellation } from '../trips/trip-workflows';
import { bookTrip, tripIdOfCancellation } from '../workflows';
import { tripStatusQuery } from '../shared/search-attributes';
import { tripStartOptions } from '../trips/start-options';
import { parseArgs, UsageError } from './args';
import { followTrip, type ProgressOutput } from './progress';
import { table, tripJson, tripLines } from './output';

const USAGE = `usage: npm run client -- <command>
  book <trip.json> [--id ID] [--wait] [--json]   start a trip (same --id twice = one trip)
  status <tripId> [--json]                        show a trip and its steps
  cancel <tripId> [--json]                        cancel a trip, undoing what it did (refund included)
  list [--status STATUS] [--limit N] [--json]     recent trips`;

/** How long `cancel` waits for the undo to finish before printing the state it is in. */
const CANCEL_WAIT_MS = 60_000;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

function print(io: Io, view: TripView, json: boolean, extra: Record<string, unknown> = {}) {
  if (json) io.out(tripJson(view, extra));
  else for (const line of tripLines(view)) io.out(line);
}

/** Where `--wait` progress goes: stdout, or stderr with --json (stdout then holds only the JSON object). */
function progressOutput(io: Io, json: boolean): ProgressOutput {
  const line = json ? io.err : io.out;
  const stream = json ? process.stderr : process.stdout;
  const tty = Boolean(stream.isTTY) && (json ? io.err === console.error : io.out === console.log);
  if (tty) return { tty, write: (text) => stream.write(text) };
  return {
    tty,
    write: (text) =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .forEach((l) => line(l)),
  };
}

async function book(client: Client, config: Config, args: ReturnType<typeof parseArgs>, io: Io): Promise<number> {
  const file = args.positional[0];
  if (!file) throw new UsageError('book needs a trip file');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const request = parseTripRequest(raw);
  const id = typeof args.flags.id === 'string' ? args.flags.id : randomUUID();
  if (!/^[A-Za-z0-9_.:-]+$/.test(id)) throw new UsageError('--id may use letters, digits and _.:- only');
  // The services' limits, checked before anything starts (a refused id would end NEEDS_ATTENTION).
  const workflowId = checkedWorkflowId(id);
  let existed = false;
  try {
    await client.workflow.start(bookTrip, {
      ...tripStartOptions(request, workflowId, config.temporal.taskQueue),
      args: [request],
      // One trip per id, ever: a running one is reused, a closed one is never started again.
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    existed = true;
  }
  if (existed && !args.flags.json) io.err(`trip ${workflowId} already exists: showing it instead of starting another`);
  const json = Boolean(args.flags.json);
  const snapshot = args.flags.wait
    ? await followTrip(client, workflowId, progressOutput(io, json))
    : await readTrip(client, workflowId);
  const url = runUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId, snapshot.runId);
  print(io, snapshot.view, Boolean(args.flags.json));
  if (!args.flags.json) io.out(`  web UI: ${url}`);
  if (wasUndone(snapshot.view)) {
    // Temporal forgot the old runs (retention, deletion); the services did not: nothing was booked.
    io.err(
      `trip ${workflowId} was used before and undone (cancelled or refunded), and Temporal no longer has its run; nothing was booked again: choose another --id`,
    );
    return 1;
  }
  return 0;
}

/** `trip-<id>`, or a usage error naming every limit the id would break. */
function checkedWorkflowId(id: string): string {
  try {
    return tripWorkflowId(id);
  } catch (err) {
    if (err instanceof TripIdError) throw new UsageError(`--id: ${err.problems.join('; ')}`);
    throw err;
  }
}

/** True when the services refused the trip because its id was used by a trip since undone. */
const wasUndone = (view: TripView) => view.reason?.type === FailureType.IdempotencyKeyUndone;

async function status(client: Client, config: Config, args: ReturnType<typeof parseArgs>, io: Io): Promise<number> {
  const id = args.positional[0];
  if (!id) throw new UsageError('status needs a trip id');
  const snapshot = await readTrip(client, workflowIdFor(id));
  // A confirmed trip may have been cancelled since: its cancellation run tells.
  const view =
    (snapshot.view.status === 'CONFIRMED' && (await readCancellation(client, snapshot.view.tripId))) || snapshot.view;
  print(io, view, Boolean(args.flags.json));
  if (!args.flags.json)
    io.out(
      `  web UI: ${runUrl(config.temporal.uiUrl, config.temporal.namespace, snapshot.view.workflowId, snapshot.runId)}`,
    );
  return 0;
}

async function cancel(client: Client, config: Config, args: ReturnType<typeof parseArgs>, io: Io): Promise<number> {
  const id = args.positional[0];
  if (!id) throw new UsageError('cancel needs a trip id');
  const snapshot = await readTrip(client, workflowIdFor(id));
  // A trip still booking is stopped and undone; a confirmed one is undone by a cancellation run.
  const view = await cancelAnyTrip(client, config.temporal.taskQueue, snapshot.view, CANCEL_WAIT_MS);
  if (!endedByCancel(view)) {
    io.err(`trip ${view.tripId} already ended ${view.status}; there is nothing to cancel`);
    print(io, view, Boolean(args.flags.json));
    return 1;
  }
  print(io, view, Boolean(args.flags.json));
  return 0;
}

async function list(client: Client, _config: Config, args: ReturnType<typeof parseArgs>, io: Io): Promise<number> {
  const wanted = args.flags.status;
  if (wanted !== undefined && !TRIP_STATUSES.includes(wanted as TripStatus)) {
    throw new UsageError(`--status must be one of ${TRIP_STATUSES.join(', ')}`);
  }
  const limit = args.flags.limit === undefined ? 20 : Number(args.flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError('--limit must be a whole number from 1 to 1000');
  const rows: Array<{ view: TripView; executionStatus: string; startTime: Date }> = [];
  // TripStatus is a search attribute kept current by the workflows: Temporal's visibility filters.
  const seen = new Set<string>();
  for await (const wf of client.workflow.list({ query: tripStatusQuery(wanted as string | undefined) })) {
    // A trip cancelled after confirmation has two runs; list it once, with its latest state.
    const tripId = wf.type === 'cancelConfirmedTrip' ? tripIdOfCancellation(wf.workflowId) : wf.workflowId;
    if (seen.has(tripId)) continue;
    seen.add(tripId);
    const snapshot = await readTrip(client, tripId).catch((err) => {
      if (err instanceof TripNotFoundError) return undefined;
      throw err;
    });
    if (!snapshot) continue;
    const view = (snapshot.view.status === 'CONFIRMED' && (await readCancellation(client, tripId))) || snapshot.view;
    if (wanted === undefined || view.status === wanted) {
      rows.push({ view, executionStatus: snapshot.executionStatus, startTime: wf.startTime });
    }
    if (rows.length >= limit) break;
  }
  if (args.flags.json) {
    io.out(
      JSON.stringify(
        rows.map((r) => ({
          tripId: r.view.tripId,
          workflowId: r.view.workflowId,
          status: r.view.status,
          steps: r.view.steps,
        })),
      ),
    );
  } else {
    io.out(
      table(
        ['TRIP', 'STATUS', 'RUN', 'STARTED'],
        rows.map((r) => [r.view.tripId, r.view.status, r.executionStatus, r.startTime.toISOString()]),
      ),
    );
  }
  return 0;
}

const COMMANDS = { book, status, cancel, list } as const;

/** Runs one client command; returns the process exit code. */
export async function runClient(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Io = { out: console.log, err: console.error },
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command as keyof typeof COMMANDS];
  if (!run) {
    io.err(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  const args = parseArgs(rest, { valued: ['id', 'status', 'limit'], boolean: ['wait', 'json'] });
  const config = loadConfig(env);
  const client = await connectClient(config);
  try {
    return await run(client, config, args, io);
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) {
  runClient(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err) => {
      if (err instanceof UsageError) console.error(`${err.message}\n${USAGE}`);
      else if (err instanceof TripNotFoundError) console.error(err.message);
      else console.error(err instanceof Error && err.message.startsWith('invalid trip request') ? err.message : err);
      process.exit(err instanceof UsageError ? 2 : 1);
    });
}
