/**
 * `npm run client -- <command>`: book, inspect, cancel and list trips through Temporal.
 *   book <trip.json> [--id ID] [--wait] [--json] [--flavor F]   status <tripId> [--json]
 *   cancel <tripId> [--json]                                     list [--status S] [--limit N] [--json]
 * `npm run client -- <command> --help` explains each. Exit codes: 0 done, 1 could not, 2 bad usage.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { FailureType } from '../shared/failures';
import { parseTripRequest } from '../shared/trip-schema';
import { TripIdError, tripWorkflowId } from '../shared/trip-ids';
import { initialView, tripIdOfCancellation, workflowIdFor, type TripView } from '../shared/trip';
import type { Db } from '../db/knex';
import { natsUrlFor } from '../dev/embedded-nats';
import {
  flavorOf,
  FlavorUnavailableError,
  readTripView,
  startTrip,
  TripIdTakenError,
  type FlavorDeps,
} from '../flavors';
import { openApiDatabase } from '../trips/trip-records';
import { connectClient } from '../temporal/connection';
import { readTrip, runUrl, TripNotFoundError, type TripSnapshot } from '../trips/trip-view';
import { cancelAnyTrip, endedByCancel, isTerminal, readCancellation } from '../trips/trip-workflows';
import { tripStatusQuery } from '../shared/search-attributes';
import { type ClientCommand, EXIT, type Io, parseCommandLine, UsageError } from './program';
import { followTrip, transitions, type ProgressOutput } from './progress';
import { table, tripJson, tripLines } from './output';

/** How long `cancel` waits for the undo to finish before printing the state it is in. */
const CANCEL_WAIT_MS = 60_000;

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

type Command<N extends ClientCommand['name']> = Extract<ClientCommand, { name: N }>;

/** The flavour dispatch's view of this client: Temporal, and the trip API's database opened on first use. */
interface ClientDeps extends FlavorDeps {
  close(): Promise<void>;
}

function clientDeps(client: Client, config: Config): ClientDeps {
  let db: Promise<Db> | undefined;
  return {
    temporal: client,
    taskQueue: config.temporal.taskQueue,
    natsUrl: natsUrlFor(config),
    twophaseUrl: config.twophase.url,
    apiDb: () => (db ??= openApiDatabase(config)),
    close: async () => {
      if (db) await (await db).destroy();
    },
  };
}

/** Follows and prints a trip of a flavour other than `orchestrated` (from the trips table). */
async function showByFlavor(deps: ClientDeps, args: Command<'book'>, tripId: string, io: Io): Promise<number> {
  let view = (await readTripView(deps, tripId)).view ?? initialView(tripId);
  if (args.wait) {
    const out = progressOutput(io, args.json);
    let last: TripView | undefined;
    for (;;) {
      const lines = transitions(last, view);
      if (lines.length > 0) out.write(lines.map((l) => `${l}\n`).join(''));
      last = view;
      if (isTerminal(view)) break;
      await new Promise((r) => setTimeout(r, 250));
      view = (await readTripView(deps, tripId)).view ?? view;
    }
  }
  print(io, view, args.json);
  return EXIT.ok;
}

async function book(client: Client, config: Config, args: Command<'book'>, io: Io, deps: ClientDeps): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(args.file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${args.file}: ${(err as Error).message}`);
  }
  const request = parseTripRequest(raw);
  // The services' limits, checked before anything starts (a refused id would end NEEDS_ATTENTION).
  const workflowId = checkedWorkflowId(args.id ?? randomUUID());
  // Every flavour starts through the dispatch, which records the trip and keeps an id to one flavour.
  const started = await startTrip(deps, args.flavor, { tripId: workflowId, request, principal: null });
  if (!started && !args.json) io.err(`trip ${workflowId} already exists: showing it instead of starting another`);
  if (args.flavor !== 'orchestrated') return showByFlavor(deps, args, workflowId, io);
  const snapshot = args.wait
    ? await followTrip(client, workflowId, progressOutput(io, args.json))
    : await readTrip(client, workflowId);
  const url = runUrl(config.temporal.uiUrl, config.temporal.namespace, workflowId, snapshot.runId);
  print(io, snapshot.view, args.json);
  if (!args.json) io.out(`  web UI: ${url}`);
  if (wasUndone(snapshot.view)) {
    // Temporal forgot the old runs (retention, deletion); the services did not: nothing was booked.
    io.err(
      `trip ${workflowId} was used before and undone (cancelled or refunded), and Temporal no longer has its run; nothing was booked again: choose another --id`,
    );
    return EXIT.failed;
  }
  return EXIT.ok;
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

/**
 * The trip a command names (`abc` or `trip-abc`), with its id: the orchestrated snapshot, or the
 * view of a trip of another flavour (Temporal does not know that one, the trips table does). A
 * trip neither knows is TripNotFoundError.
 */
async function readAnyTrip(
  client: Client,
  deps: ClientDeps,
  id: string,
): Promise<{ tripId: string } & ({ snapshot: TripSnapshot } | { otherFlavor: TripView })> {
  const tripId = workflowIdFor(id);
  try {
    return { tripId, snapshot: await readTrip(client, tripId) };
  } catch (err) {
    if (!(err instanceof TripNotFoundError)) throw err;
    const found = await readTripView(deps, tripId);
    if (found.flavor === 'orchestrated' || !found.view) throw err;
    return { tripId, otherFlavor: found.view };
  }
}

async function status(
  client: Client,
  config: Config,
  args: Command<'status'>,
  io: Io,
  deps: ClientDeps,
): Promise<number> {
  const found = await readAnyTrip(client, deps, args.tripId);
  if ('otherFlavor' in found) {
    print(io, found.otherFlavor, args.json);
    return EXIT.ok;
  }
  const { snapshot } = found;
  // A confirmed trip may have been cancelled since: its cancellation run tells.
  const view =
    (snapshot.view.status === 'CONFIRMED' && (await readCancellation(client, snapshot.view.tripId))) || snapshot.view;
  print(io, view, args.json);
  if (!args.json)
    io.out(
      `  web UI: ${runUrl(config.temporal.uiUrl, config.temporal.namespace, snapshot.view.workflowId, snapshot.runId)}`,
    );
  return EXIT.ok;
}

async function cancel(
  client: Client,
  config: Config,
  args: Command<'cancel'>,
  io: Io,
  deps: ClientDeps,
): Promise<number> {
  const found = await readAnyTrip(client, deps, args.tripId);
  if ('otherFlavor' in found) {
    const { tripId } = found;
    io.err(`trip ${tripId} is ${await flavorOf(deps, tripId)}: only orchestrated trips can be cancelled`);
    print(io, found.otherFlavor, args.json);
    return EXIT.failed;
  }
  const { snapshot } = found;
  // A trip still booking is stopped and undone; a confirmed one is undone by a cancellation run.
  const view = await cancelAnyTrip(client, config.temporal.taskQueue, snapshot.view, CANCEL_WAIT_MS);
  if (!endedByCancel(view)) {
    io.err(`trip ${view.tripId} already ended ${view.status}; there is nothing to cancel`);
    print(io, view, args.json);
    return EXIT.failed;
  }
  print(io, view, args.json);
  return EXIT.ok;
}

async function list(client: Client, _config: Config, args: Command<'list'>, io: Io): Promise<number> {
  const { status: wanted, limit } = args;
  const rows: Array<{ view: TripView; executionStatus: string; startTime: Date }> = [];
  // TripStatus is a search attribute kept current by the workflows: Temporal's visibility filters.
  const seen = new Set<string>();
  for await (const wf of client.workflow.list({ query: tripStatusQuery(wanted) })) {
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
  if (args.json) {
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
  return EXIT.ok;
}

/** Runs one client command; returns the process exit code. Help and usage errors connect to nothing. */
export async function runClient(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Io = { out: console.log, err: console.error },
): Promise<number> {
  const parsed = parseCommandLine(argv, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { command } = parsed;
  const config = loadConfig(env);
  const client = await connectClient(config);
  const deps = clientDeps(client, config);
  try {
    switch (command.name) {
      case 'book':
        return await book(client, config, command, io, deps);
      case 'status':
        return await status(client, config, command, io, deps);
      case 'cancel':
        return await cancel(client, config, command, io, deps);
      case 'list':
        return await list(client, config, command, io);
    }
  } finally {
    await deps.close();
    await client.connection.close();
  }
}

/** The message and exit code of an error that ended a command (the script's last words). */
export function describeClientError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof UsageError)
    return { message: `error: ${err.message}\n(add --help for usage)`, exitCode: EXIT.usage };
  if (err instanceof TripNotFoundError) return { message: err.message, exitCode: EXIT.failed };
  if (err instanceof FlavorUnavailableError || err instanceof TripIdTakenError) {
    return { message: err.message, exitCode: EXIT.failed };
  }
  if (err instanceof Error && err.message.startsWith('invalid trip request')) {
    return { message: err.message, exitCode: EXIT.failed };
  }
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err), exitCode: EXIT.failed };
}

if (require.main === module) {
  runClient(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      const { message, exitCode } = describeClientError(err);
      console.error(message);
      process.exit(exitCode);
    });
}
