/** A small, strict argv parser for the client script: unknown flags are errors, not ignored. */

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `valued` flags take the next argument (`--id X` or `--id=X`); the rest are booleans. */
export function parseArgs(argv: string[], spec: { valued: string[]; boolean: string[] }): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      out.flags[name] = value;
    } else if (spec.boolean.includes(name) && inline === undefined) {
      out.flags[name] = true;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}
