/**
 * Reads docker-compose.yml the way `docker compose` would for what the tests need: YAML merge
 * keys resolved, `${VAR:-default}` interpolated from defaults, environments as maps, and the
 * project's own processes (the services built from the Dockerfile) told apart from third-party images.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const PROJECT_DIR = path.resolve(__dirname, '..', '..');
export const COMPOSE_PATH = path.join(PROJECT_DIR, 'docker-compose.yml');

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: string[] | string };
  deploy?: { replicas?: number };
  restart?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/** The parsed file (merge keys resolved, like Compose does), before interpolation. */
export function readComposeFile(file = COMPOSE_PATH): ComposeFile {
  return parse(fs.readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;
}

/** Compose interpolation with no variables set: `${X:-d}`/`${X-d}` → d, `${X}` → '', `$$` → `$`. */
export function interpolate(value: string, vars: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (whole, name?: string, op?: string, arg?: string) => {
      if (whole === '$$') return '$';
      const v = vars[name as string];
      const unset = op?.startsWith(':') ? !v : v === undefined;
      if (!unset) return v as string;
      if (op?.endsWith('?')) throw new Error(`compose requires ${name}: ${arg}`);
      return op ? (arg ?? '') : '';
    },
  );
}

/** A service's environment as a name → string map, interpolated (from `vars`, else defaults). */
export function serviceEnv(
  service: ComposeService,
  vars: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment ?? {};
  const entries: Array<[string, unknown]> = Array.isArray(raw)
    ? raw.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(raw);
  for (const [name, value] of entries)
    env[name] = interpolate(value === null || value === undefined ? '' : String(value), vars);
  return env;
}

/** The services built from this repository's Dockerfile (the project's own processes). */
export function projectServices(compose: ComposeFile): Array<[string, ComposeService]> {
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
}

/** `node dist/src/x/y.js a b` → the source entry `src/x/y.ts` and its arguments. */
export function sourceEntry(service: ComposeService): { script: string; args: string[] } {
  const argv = typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);
  const [bin, compiled, ...args] = argv;
  const m = /^dist\/(src\/.+)\.js$/.exec(compiled ?? '');
  if (bin !== 'node' || !m) throw new Error(`unexpected command ${JSON.stringify(argv)}`);
  return { script: `${m[1]}.ts`, args };
}

/** The port a `node -e "fetch('http://127.0.0.1:PORT/…')"` health check probes. */
export function healthPort(service: ComposeService): number | undefined {
  const test = service.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : (test ?? '');
  const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
  return m ? Number(m[1]) : undefined;
}
