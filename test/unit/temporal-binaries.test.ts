/** The Temporal binary resolver reads the config it is given, never process.env. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { temporalCliPath, temporalTestServerPath } from '../../src/dev/temporal-binaries';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-binaries-'));
const fakeBinary = (name: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  return file;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('takes the explicit paths of the config, and names the variable of one that does not exist', () => {
  const cli = fakeBinary('my-temporal');
  const config = loadConfig({ TEMPORAL_CLI_PATH: cli, TEMPORAL_TEST_SERVER_PATH: path.join(dir, 'missing') });
  expect(temporalCliPath(config)).toBe(cli);
  expect(() => temporalTestServerPath(config)).toThrow(/TEMPORAL_TEST_SERVER_PATH=.*missing: no such file/);
});

it('finds the binaries on the PATH of the config, whatever process.env says', () => {
  const cli = fakeBinary('temporal');
  const testServer = fakeBinary('temporal-test-server');
  const saved = { ...process.env };
  process.env.TEMPORAL_CLI_PATH = path.join(dir, 'not-this-one');
  process.env.TEMPORAL_TEST_SERVER_PATH = path.join(dir, 'nor-this-one');
  try {
    const config = loadConfig({ PATH: ['/nonexistent', dir].join(path.delimiter) });
    expect(temporalCliPath(config)).toBe(cli);
    expect(temporalTestServerPath(config)).toBe(testServer);
  } finally {
    process.env = saved;
  }
});
