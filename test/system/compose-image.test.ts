/**
 * The runtime image without Docker: `npm run build`'s two steps (tsc -p tsconfig.build.json and
 * the workflow bundle) into a directory laid out like the Dockerfile's last stage (package.json,
 * node_modules, dist/, examples/, no src/), then every compose `command` run there verbatim with
 * NODE_ENV=production, against PostgreSQL, NATS and a Temporal dev server.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { PROJECT_DIR } from '../support/compose-file';
import { startIsolatedComposeStack, type ComposeStack, type IsolatedComposeStack } from '../support/compose-stack';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';

let imageDir: string;
let isolated: IsolatedComposeStack;
let stack: ComposeStack;

function run(args: string[]): void {
  const result = spawnSync(process.execPath, args, { cwd: PROJECT_DIR, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0)
    throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
}

beforeAll(async () => {
  imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-image-'));
  const logDir = path.join(imageDir, 'logs');
  fs.mkdirSync(logDir);
  // What the Dockerfile's runtime stage copies (node_modules linked: no registry here).
  for (const file of ['package.json', 'package-lock.json'])
    fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(imageDir, file));
  fs.cpSync(path.join(PROJECT_DIR, 'examples'), path.join(imageDir, 'examples'), { recursive: true });
  fs.symlinkSync(path.join(PROJECT_DIR, 'node_modules'), path.join(imageDir, 'node_modules'), 'dir');
  run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(imageDir, 'dist')]);
  run([
    '--import',
    'tsx',
    'scripts/build-workflow-bundle.ts',
    '--out',
    path.join(imageDir, 'dist', 'workflow-bundle.js'),
  ]);

  isolated = await startIsolatedComposeStack('image', {
    logDir,
    imageDir,
    replicas: (name, composed) => (name === 'worker' ? 1 : composed),
  });
  stack = isolated.stack;
}, 300_000);

afterAll(async () => {
  await isolated?.stop();
  if (imageDir) fs.rmSync(imageDir, { recursive: true, force: true });
}, 60_000);

describe('the compiled image layout', () => {
  it('runs every compose command from dist/ without the sources, the worker on the prebuilt bundle', () => {
    expect(fs.existsSync(path.join(imageDir, 'src'))).toBe(false);
    expect(fs.statSync(path.join(imageDir, 'dist', 'workflow-bundle.js')).size).toBeGreaterThan(100_000);
    const names = stack.procs.map((p) => p.name).sort();
    expect(names).toEqual(['api', 'car', 'flight', 'hotel', 'notifications', 'payment', 'relay', 'worker']);
    for (const p of stack.procs)
      expect({ name: p.name, running: p.child.exitCode === null }).toEqual({ name: p.name, running: true });
    const polling = stack
      .byName('worker')
      .log()
      .split('\n')
      .find((l) => l.includes('"worker polling"'));
    expect(polling).toContain('"prebuiltBundle":true');
  });

  it('books a trip through the compiled trip API and worker', async () => {
    const api = stack.byName('api');
    const token = (api.env.API_TOKENS ?? '').split(',')[0]!.split(':')[0];
    const res = await fetch(`http://127.0.0.1:${api.env.API_PORT}/trips`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
        prefer: 'wait=30',
      },
      body: JSON.stringify(sampleTrip()),
    });
    const body = (await res.json()) as { tripId: string; status: string };
    expect({ status: res.status, trip: body.status }).toEqual({ status: 201, trip: 'CONFIRMED' });
    const audit = await auditTrip(loadConfig(stack.byName('worker').env), body.tripId);
    expect(invariantViolations(body.status, audit)).toEqual([]);
  });
});
