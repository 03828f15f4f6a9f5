/**
 * Determinism: histories recorded from real runs (test/fixtures/histories, made by
 * scripts/record-histories.ts) must replay without a non-determinism error against the
 * current workflow code. A change that breaks this needs workflow versioning (patched()).
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];

it('has recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

it.each(files)('replays %s deterministically', async (file) => {
  // The files are the protobuf JSON form of fetchHistory()'s result (enums by name, int64 as strings).
  const history = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});
