/**
 * One way to start a trip: startBookTrip starts `bookTrip` with the trip's start options and the
 * once-per-id policies, and says whether it started a run. The client, the launcher and the API
 * all call it; nothing else in src/ starts `bookTrip`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { startBookTrip } from '../../src/trips/trip-workflows';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { sampleTrip } from '../../src/testkit/sample-trip';

const fakeClient = (start: jest.Mock) => ({ workflow: { start } }) as unknown as Client;

it('starts bookTrip once per id with the trip start options, and reports a run already there', async () => {
  const request = sampleTrip();
  const start = jest.fn().mockResolvedValueOnce({});
  expect(await startBookTrip(fakeClient(start), 'trips', 'trip-a', request)).toEqual({ started: true });
  expect(start).toHaveBeenCalledWith(bookTrip, {
    ...tripStartOptions(request, 'trip-a', 'trips'),
    args: [request],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'USE_EXISTING',
  });

  start.mockRejectedValueOnce(new WorkflowExecutionAlreadyStartedError('started', 'trip-a', 'bookTrip'));
  expect(await startBookTrip(fakeClient(start), 'trips', 'trip-a', request)).toEqual({ started: false });

  start.mockRejectedValueOnce(new Error('connection refused'));
  await expect(startBookTrip(fakeClient(start), 'trips', 'trip-a', request)).rejects.toThrow('connection refused');
});

it('is the only place in src/ that starts bookTrip, and the client, launcher and API use it', () => {
  const root = path.join(__dirname, '..', '..', 'src');
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  const starters = files(root)
    .filter((f) => /workflow\.(start|execute|signalWithStart)\(\s*bookTrip\b/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(root, f));
  expect(starters).toEqual(['trips/trip-workflows.ts']);
  for (const user of ['client/cli.ts', 'dev/embedded-stack.ts', 'api/trip-routes.ts']) {
    expect(fs.readFileSync(path.join(root, user), 'utf8')).toMatch(/\bstartBookTrip\(/);
  }
});
