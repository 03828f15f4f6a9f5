/**
 * Determinism: histories recorded from real runs (test/fixtures/histories, made by
 * scripts/record-histories.ts) must replay without a non-determinism error against the
 * current workflow code. A change that breaks this needs workflow versioning (patched()).
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULES, workflowTracingSinks } from '../../src/observability/tracing';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const readHistory = (file: string) =>
  temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];

it('has recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

it.each(files)('replays %s deterministically', async (file) => {
  // The files are the protobuf JSON form of fetchHistory()'s result (enums by name, int64 as strings).
  const history = readHistory(file);
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});

// Workers carry the tracing interceptors (src/workers/create-worker.ts); runs recorded before them
// must still replay with them.
it.each(files)('replays %s deterministically with the tracing interceptors', async (file) => {
  const options = {
    workflowsPath: require.resolve('../../src/workflows'),
    interceptors: { workflowModules: WORKFLOW_TRACING_MODULES },
    sinks: workflowTracingSinks(),
  };
  await expect(Worker.runReplayHistory(options, readHistory(file), `replay-traced-${file}`)).resolves.toBeUndefined();
});
