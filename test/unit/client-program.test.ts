/** The client's command line: help per command, exit code 2 for bad usage, the flags of each command. */
import { parseCommandLine, UsageError, type ClientCommand } from '../../src/client/program';
import { runClient } from '../../src/client/cli';

function parse(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const result = parseCommandLine(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { result, out: out.join('\n'), err: err.join('\n') };
}

const command = (...argv: string[]): ClientCommand => {
  const { result } = parse(...argv);
  if (!('command' in result)) throw new Error(`no command for ${argv.join(' ')}: exit ${result.exitCode}`);
  return result.command;
};

describe('help', () => {
  it('prints the help of book for `book --help`, on stdout, with exit code 0', () => {
    const { result, out, err } = parse('book', '--help');
    expect(result).toEqual({ exitCode: 0 });
    expect(out).toMatch(/Usage: npm run client -- book \[options\] <file>/);
    for (const flag of ['--id <id>', '--wait', '--json', '--flavor <flavor>']) expect(out).toContain(flag);
    expect(err).toBe('');
  });

  it.each([['status'], ['cancel'], ['list']])('prints the help of %s', (name) => {
    const { result, out } = parse(name, '--help');
    expect(result).toEqual({ exitCode: 0 });
    expect(out).toContain(`Usage: npm run client -- ${name}`);
  });

  it('lists every command for --help and `help`, and `help book` is book --help', () => {
    for (const argv of [['--help'], ['help']]) {
      const { result, out } = parse(...argv);
      expect(result).toEqual({ exitCode: 0 });
      for (const name of ['book', 'status', 'cancel', 'list']) expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect(parse('help', 'book').out).toBe(parse('book', '--help').out);
  });

  it('answers no command at all with the help on stderr and exit code 2', () => {
    const { result, out, err } = parse();
    expect(result).toEqual({ exitCode: 2 });
    expect(out).toBe('');
    expect(err).toContain('Commands:');
  });
});

describe('bad usage', () => {
  it.each([
    [['book', 'trip.json', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['book'], /missing required argument 'file'/],
    [['status'], /missing required argument 'tripId'/],
    [['status', 'a', 'b'], /too many arguments/],
    [['book', 'trip.json', '--id'], /argument missing/],
    [['book', 'trip.json', '--flavor', 'saga-of-my-own'], /Allowed choices are orchestrated, choreographed, 2pc/],
  ])('answers %j with exit code 2 and a message on stderr only', (argv, message) => {
    const { result, out, err } = parse(...argv);
    expect(result).toEqual({ exitCode: 2 });
    expect(err).toMatch(message);
    expect(out).toBe('');
  });

  it.each([
    [['list', '--status', 'NOPE'], /--status must be one of PENDING, BOOKING/],
    [['list', '--limit', '0'], /--limit must be a whole number/],
    [['book', 'trip.json', '--id', 'no spaces'], /--id may use letters/],
    [['book', 'trip.json', '--flavor', '2pc'], /--flavor 2pc is not available yet; available: orchestrated/],
    [['book', 'trip.json', '--flavor', 'choreographed'], /not available yet/],
  ])('refuses the values of %j with a UsageError', (argv, message) => {
    expect(() => parse(...argv)).toThrow(UsageError);
    expect(() => parse(...argv)).toThrow(message);
  });

  it('returns 2 from runClient for an unknown option without connecting to Temporal', async () => {
    const err: string[] = [];
    // TEMPORAL_ADDRESS points nowhere: a connection attempt would fail, not return 2.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    expect(await runClient(['book', 'x.json', '--wat'], env, { out: () => undefined, err: (l) => err.push(l) })).toBe(
      2,
    );
    expect(err.join('\n')).toMatch(/unknown option '--wat'/);
    expect(await runClient(['book', '--help'], env, { out: () => undefined, err: () => undefined })).toBe(0);
  });
});

describe('flags', () => {
  it('reads book with its defaults and with every flag, in either order and with --id=X', () => {
    expect(command('book', 'trip.json')).toEqual({
      name: 'book',
      file: 'trip.json',
      id: undefined,
      wait: false,
      json: false,
      flavor: 'orchestrated',
    });
    const full = { name: 'book', file: 'trip.json', id: 'my-trip', wait: true, json: true, flavor: 'orchestrated' };
    expect(command('book', 'trip.json', '--id', 'my-trip', '--wait', '--json')).toEqual(full);
    expect(command('book', '--json', '--id=my-trip', '--wait', 'trip.json', '--flavor', 'orchestrated')).toEqual(full);
  });

  it('reads status, cancel and list', () => {
    expect(command('status', 'my-trip', '--json')).toEqual({ name: 'status', tripId: 'my-trip', json: true });
    expect(command('cancel', 'my-trip')).toEqual({ name: 'cancel', tripId: 'my-trip', json: false });
    expect(command('list')).toEqual({ name: 'list', status: undefined, limit: 20, json: false });
    expect(command('list', '--status', 'COMPENSATED', '--limit', '5', '--json')).toEqual({
      name: 'list',
      status: 'COMPENSATED',
      limit: 5,
      json: true,
    });
  });
});
