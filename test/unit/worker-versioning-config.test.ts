/**
 * Worker Versioning is opt-in: without WORKER_DEPLOYMENT_NAME/WORKER_BUILD_ID a worker is
 * unversioned as before; with them it polls as that Worker Deployment Version (the integration
 * test test/integration/worker-versioning.test.ts runs it on a real server).
 */
import { loadConfig } from '../../src/config';
import { configProblems } from '../support/config-problems';
import { workerDeploymentOptions } from '../../src/workers/create-worker';

it('leaves the worker unversioned when no deployment is configured', () => {
  const config = loadConfig({});
  expect(config.worker.deployment).toBeUndefined();
  expect(workerDeploymentOptions(config)).toEqual({});
});

it('polls as the configured Worker Deployment Version, pinned by default', () => {
  const config = loadConfig({ WORKER_DEPLOYMENT_NAME: 'trip-saga', WORKER_BUILD_ID: '2027.03.01-ab12cd3' });
  expect(workerDeploymentOptions(config)).toEqual({
    workerDeploymentOptions: {
      version: { deploymentName: 'trip-saga', buildId: '2027.03.01-ab12cd3' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  });
});

it('takes AUTO_UPGRADE as the default versioning behaviour when asked', () => {
  const config = loadConfig({
    WORKER_DEPLOYMENT_NAME: 'trip-saga',
    WORKER_BUILD_ID: 'b2',
    WORKER_VERSIONING_BEHAVIOR: 'AUTO_UPGRADE',
  });
  expect(config.worker.deployment).toEqual({ name: 'trip-saga', buildId: 'b2', defaultBehavior: 'AUTO_UPGRADE' });
});

it.each([
  ['WORKER_BUILD_ID', { WORKER_DEPLOYMENT_NAME: 'trip-saga' }],
  ['WORKER_DEPLOYMENT_NAME', { WORKER_BUILD_ID: 'b1' }],
  // The server refuses the delimiters of `<name>.<buildId>` and `<name>:<buildId>` in a name.
  ['WORKER_DEPLOYMENT_NAME', { WORKER_DEPLOYMENT_NAME: 'trip.saga', WORKER_BUILD_ID: 'b1' }],
  ['WORKER_DEPLOYMENT_NAME', { WORKER_DEPLOYMENT_NAME: 'trip:saga', WORKER_BUILD_ID: 'b1' }],
  ['WORKER_BUILD_ID', { WORKER_DEPLOYMENT_NAME: 'trip-saga', WORKER_BUILD_ID: 'build 1' }],
  ['WORKER_VERSIONING_BEHAVIOR', { WORKER_VERSIONING_BEHAVIOR: 'pinned' }],
])('refuses a bad %s, naming it', (variable, env) => {
  const problems = configProblems(env);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain(variable);
});
