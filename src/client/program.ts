/**
 * The client script's command line, on commander: the commands, their options and help. Parsing
 * connects to nothing, so help, usage errors and flags are tested without a server. Syntax errors
 * (unknown command or option, missing argument) print commander's message and give exit code 2;
 * values that parse but make no sense throw UsageError (also exit code 2 in the script).
 */
import { Command, CommanderError, Option } from 'commander';
import {
  AVAILABLE_FLAVORS,
  DEFAULT_FLAVOR,
  NOT_IN_THIS_BUILD,
  SAGA_FLAVORS,
  type SagaFlavor,
} from '../shared/saga-flavor';
import { isTripStatus, TRIP_STATUSES, type TripStatus } from '../shared/trip-status';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where the client writes, one line per call (tests collect the lines). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export type ClientCommand =
  | { name: 'book'; file: string; id?: string; wait: boolean; json: boolean; flavor: SagaFlavor }
  | { name: 'status'; tripId: string; json: boolean }
  | { name: 'cancel'; tripId: string; json: boolean }
  | { name: 'list'; status?: TripStatus; limit: number; json: boolean };

/** A command to run, or the exit code of a parse that already answered (help, usage error). */
export type ParsedCommandLine = { command: ClientCommand } | { exitCode: number };

/** Exit codes of the client script (README: 0 done, 1 could not do it, 2 bad usage). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const TRIP_ID = /^[A-Za-z0-9_.:-]+$/;
const DEFAULT_LIST_LIMIT = 20;

function checkId(id: string | undefined): string | undefined {
  if (id !== undefined && !TRIP_ID.test(id)) throw new UsageError('--id may use letters, digits and _.:- only');
  return id;
}

function checkFlavor(flavor: SagaFlavor): SagaFlavor {
  if (!AVAILABLE_FLAVORS.includes(flavor)) {
    throw new UsageError(
      `${NOT_IN_THIS_BUILD[flavor] ?? `--flavor ${flavor} is not available yet`}; available: ${AVAILABLE_FLAVORS.join(', ')}`,
    );
  }
  return flavor;
}

function checkStatus(status: string | undefined): TripStatus | undefined {
  if (status !== undefined && !isTripStatus(status)) {
    throw new UsageError(`--status must be one of ${TRIP_STATUSES.join(', ')}`);
  }
  return status;
}

function checkLimit(limit: string | undefined): number {
  const n = limit === undefined ? DEFAULT_LIST_LIMIT : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
  return n;
}

/** The program; `found(command)` receives the parsed command of an action. */
function buildProgram(io: Io, found: (command: ClientCommand) => void): Command {
  const program = new Command('npm run client --')
    .description('Book, inspect, cancel and list trips through Temporal.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    })
    .showHelpAfterError('(add --help for usage)');
  const json = () => new Option('--json', 'print one JSON object and nothing else on stdout');

  program
    .command('book')
    .description('start a trip from a trip request file (the same --id twice = one trip)')
    .argument('<file>', 'a trip request (JSON), e.g. examples/trip.json')
    .option('--id <id>', 'the trip id (trip-<id>); letters, digits and _.:-; random if none')
    .option('--wait', 'follow the trip step by step until it ends')
    .addOption(json())
    .addOption(
      new Option('--flavor <flavor>', `saga flavour (available: ${AVAILABLE_FLAVORS.join(', ')})`)
        .choices(SAGA_FLAVORS)
        .default(DEFAULT_FLAVOR),
    )
    .action((file: string, o: { id?: string; wait?: boolean; json?: boolean; flavor: SagaFlavor }) =>
      found({
        name: 'book',
        file,
        id: checkId(o.id),
        wait: Boolean(o.wait),
        json: Boolean(o.json),
        flavor: checkFlavor(o.flavor),
      }),
    );

  program
    .command('status')
    .description('show a trip and its steps')
    .argument('<tripId>', 'the id given to book (or trip-<id>)')
    .addOption(json())
    .action((tripId: string, o: { json?: boolean }) => found({ name: 'status', tripId, json: Boolean(o.json) }));

  program
    .command('cancel')
    .description('cancel a trip, undoing what it did (refund included)')
    .argument('<tripId>', 'the id given to book (or trip-<id>)')
    .addOption(json())
    .action((tripId: string, o: { json?: boolean }) => found({ name: 'cancel', tripId, json: Boolean(o.json) }));

  program
    .command('list')
    .description('recent trips, newest first')
    .option('--status <status>', `only trips in this status (${TRIP_STATUSES.join(', ')})`)
    .option('--limit <n>', `at most this many trips (1-1000, default ${DEFAULT_LIST_LIMIT})`)
    .addOption(json())
    .action((o: { status?: string; limit?: string; json?: boolean }) =>
      found({ name: 'list', status: checkStatus(o.status), limit: checkLimit(o.limit), json: Boolean(o.json) }),
    );
  return program;
}

/**
 * Parses the client's arguments (without `node` and the script). Help goes to `io.out` (exit 0);
 * a syntax error goes to `io.err` (exit 2); a value that makes no sense throws UsageError.
 */
export function parseCommandLine(argv: string[], io: Io): ParsedCommandLine {
  let command: ClientCommand | undefined;
  const program = buildProgram(io, (c) => (command = c));
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // Help asked for (`--help`, `help [command]`) exits 0; help shown for want of a command, or an error, is bad usage.
    return { exitCode: err.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  // No command at all: commander printed the help to stderr (and threw above); kept for safety.
  return command ? { command } : { exitCode: EXIT.usage };
}
