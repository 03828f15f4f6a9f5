/**
 * The API contract, tested by property: schemathesis (PyPI, installed into .tools/venv on first
 * use) reads each app's /openapi.json, generates valid and invalid requests from it, and checks
 * every answer: no 5xx, only documented status codes and content types, bodies that fit their
 * schemas. Against the real stack (Temporal dev server, the four services, a worker) and the trip
 * API on its own SQLite database. Seeded and bounded, so a run is repeatable and takes minutes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import { BOOKING_SERVICES, loadConfig } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { schemathesisPath } from '../../src/dev/temporal-binaries';
import { openApiDatabase } from '../../src/trips/trip-records';
import { startStack, type Stack } from '../../src/testkit/stack';

const TOKEN = 'contract-token-0001';
/** Fixed, so a failure found once is found again; SCHEMATHESIS_SEED tries another. */
const SEED = process.env.SCHEMATHESIS_SEED ?? '20270301';
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '50';
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
].join(',');

/** Stateful: POST /trips, then GET and cancel the trip it made (the links of the document). */
const PHASES = 'examples,coverage,fuzzing,stateful';

let stack: Stack;
let apiDb: Db;
let api: FastifyInstance;
let apiUrl: string;
let dataDir: string;
let schemathesis: string;

beforeAll(async () => {
  schemathesis = schemathesisPath(loadConfig());
  stack = await startStack();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-contract-'));
  apiDb = await openApiDatabase({ dataDir });
  // A short lock timeout caps `Prefer: wait` at 2 s, so generated requests never wait long.
  const config = { ...stack.config, api: { ...stack.config.api, idempotencyLockTimeoutMs: 4_000 } };
  api = buildApp({ db: apiDb, temporalClient: stack.client, config, tokens: new Map([[TOKEN, 'contract']]) });
  apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
}, 300_000);

afterAll(async () => {
  await api?.close();
  await apiDb?.destroy();
  await stack?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

/** The number of test cases a run generated, read from its summary (all of them passed when the run exits 0). */
const casesOf = (output: string) => Number(/(\d+) generated/.exec(output)?.[1] ?? 0);

/** Runs schemathesis against the document an app serves; resolves with its exit code and output. */
function runSchemathesis(baseUrl: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  const args = [
    'run',
    `${baseUrl}/openapi.json`,
    '--checks',
    CHECKS,
    '--seed',
    SEED,
    '--max-examples',
    MAX_EXAMPLES,
    '--phases',
    PHASES,
    '--workers',
    '1',
    '--request-timeout',
    '20',
    '--suppress-health-check',
    'too_slow',
    ...extra,
  ];
  return new Promise((resolve, reject) => {
    // Asynchronous: the trip API answering it runs in this very process.
    // In the test's temp dir: schemathesis keeps a crash cache (.schemathesis/) in its working directory.
    const child = spawn(schemathesis, args, { cwd: dataDir, env: { ...process.env, NO_COLOR: '1', COLUMNS: '160' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('serves /openapi.json and /docs on the trip API and on every booking service', async () => {
  const urls = [apiUrl, ...BOOKING_SERVICES.map((name) => stack.config.services[name].url)];
  for (const url of urls) {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: object };
    expect(doc.openapi).toBe('3.1.0');
    const page = await fetch(`${url}/docs`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    for (const p of Object.keys(doc.paths)) expect(html).toContain(p);
  }
});

it('the trip API answers only what its OpenAPI document says', async () => {
  const { code, output } = await runSchemathesis(apiUrl, ['--header', `Authorization: Bearer ${TOKEN}`]);
  if (code !== 0) console.log(output);
  expect(code).toBe(0);
  expect(output).toMatch(/Tested: 7\b/);
  expect(casesOf(output)).toBeGreaterThan(200);
}, 600_000);

it.each(BOOKING_SERVICES)(
  'the %s service answers only what its OpenAPI document says',
  async (name) => {
    const { code, output } = await runSchemathesis(stack.config.services[name].url);
    if (code !== 0) console.log(output);
    expect(code).toBe(0);
    expect(casesOf(output)).toBeGreaterThan(50);
  },
  600_000,
);
