/**
 * A private PostgreSQL cluster for tests and the compare bench: initdb into a temp dir, started on
 * a free port with prepared transactions enabled (`max_prepared_transactions`), stopped by
 * `stop()`. It needs nothing from the machine's server (which may have them off and be shared),
 * only the server binaries. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  adminUrl: string;
  port: number;
  dataDir: string;
  /** A URL for database `name` on this cluster (create it first with `createDatabase`). */
  urlFor(name: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

/** Where initdb/pg_ctl live: PG_BIN_DIR, else the newest /usr/lib/postgresql/N/bin, else pg_config. */
export function findPostgresBinaries(): string | undefined {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv && fs.existsSync(path.join(fromEnv, 'pg_ctl'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = pgConfig.status === 0 ? pgConfig.stdout.trim() : '';
  return dir && fs.existsSync(path.join(dir, 'pg_ctl')) ? dir : undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** As root, the command runs as the postgres OS user. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function run(bin: string, args: string[], what: string): SpawnSyncReturns<string> {
  const [cmd, argv] = asPostgres(bin, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: os.tmpdir(), timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${what} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`);
  }
  return result;
}

const running = new Set<PrivatePostgres>();
process.once('exit', () => {
  for (const pg of running) pg.stop();
});

/** Starts a fresh cluster; `settings` become `-c name=value` server options. */
export async function startPrivatePostgres(settings: Record<string, string | number> = {}): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries();
  if (!bin) throw new Error('PostgreSQL server binaries not found (install postgresql or set PG_BIN_DIR)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-pg-'));
  if (isRoot()) spawnSync('chown', ['postgres:postgres', dataDir]);
  const port = await freePort();
  const logFile = path.join(dataDir, 'server.log');
  const options = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dataDir,
    max_prepared_transactions: 64,
    max_connections: 200,
    // A test cluster: losing it to an OS crash costs nothing, waiting for fsync costs time.
    fsync: 'off',
    full_page_writes: 'off',
    ...settings,
  };
  const serverOptions = Object.entries(options)
    .map(([k, v]) => `-c ${k}=${String(v)}`)
    .join(' ');
  try {
    run(
      path.join(bin, 'initdb'),
      ['-D', path.join(dataDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      'initdb',
    );
    run(
      path.join(bin, 'pg_ctl'),
      ['start', '-w', '-t', '60', '-D', path.join(dataDir, 'data'), '-l', logFile, '-o', serverOptions],
      'pg_ctl start',
    );
  } catch (err) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  let stopped = false;
  const cluster: PrivatePostgres = {
    adminUrl: urlFor('postgres'),
    port,
    dataDir,
    urlFor,
    async createDatabase(name) {
      const { default: knexFactory } = await import('knex');
      const admin = knexFactory({ client: 'pg', connection: cluster.adminUrl, pool: { min: 0, max: 1 } });
      try {
        await admin.raw('CREATE DATABASE ??', [name]);
      } finally {
        await admin.destroy();
      }
      return urlFor(name);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      running.delete(cluster);
      // Immediate: nothing in a test cluster is worth a checkpoint.
      const [cmd, argv] = asPostgres(path.join(bin, 'pg_ctl'), [
        'stop',
        '-m',
        'immediate',
        '-D',
        path.join(dataDir, 'data'),
      ]);
      spawnSync(cmd, argv, { encoding: 'utf8', cwd: os.tmpdir(), timeout: 60_000 });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(cluster);
  return cluster;
}
