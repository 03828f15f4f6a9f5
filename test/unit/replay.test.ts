/**
 * Determinism: histories recorded from real runs (test/fixtures/histories, made by
 * scripts/record-histories.ts) must replay without a non-determinism error against the
 * current workflow code. A change that breaks this needs workflow versioning (patched()), and
 * each patch needs histories recorded on both sides of it (docs/workflow-changes.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULES, workflowTracingSinks } from '../../src/observability/tracing';
import { WORKFLOW_PATCHES } from '../../src/workflows/patches';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const files = fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];

// The files are the protobuf JSON form of fetchHistory()'s result (enums by name, int64 as strings).
const load = (file: string) =>
  temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));

/** The workflow type of a recorded run and the patch ids its markers carry (`patched()` calls that returned true). */
function describeHistory(file: string): { file: string; workflowType: string; patches: string[] } {
  const events = load(file).events;
  const workflowType = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';
  const patches = events
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => {
      const data = m?.details?.['patch-data']?.payloads?.[0]?.data;
      return (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { id: string }).id;
    });
  return { file, workflowType, patches };
}

it('has recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

it.each(files)('replays %s deterministically', async (file) => {
  await expect(
    Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows') }, load(file), `replay-${file}`),
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
  await expect(Worker.runReplayHistory(options, load(file), `replay-traced-${file}`)).resolves.toBeUndefined();
});

describe('patches', () => {
  const recorded = files.map(describeHistory);

  it('finds every patch marker of the histories among the patches the code still checks', () => {
    const unknown = recorded.flatMap((h) =>
      h.patches.filter((p) => !(p in WORKFLOW_PATCHES)).map((p) => `${h.file}: ${p}`),
    );
    expect(unknown).toEqual([]);
  });

  it.each(Object.entries(WORKFLOW_PATCHES))('replays runs recorded on each side of %s (%s)', (patch, state) => {
    const bookTrips = recorded.filter((h) => h.workflowType === 'bookTrip');
    expect(bookTrips.filter((h) => h.patches.includes(patch)).length).toBeGreaterThanOrEqual(1);
    // Once deprecated, no run without the marker may exist any more (deprecatePatch would not replay it).
    const without = bookTrips.filter((h) => !h.patches.includes(patch)).map((h) => h.file);
    if (state === 'patched') expect(without.length).toBeGreaterThanOrEqual(1);
    else expect(without).toEqual([]);
  });
});
