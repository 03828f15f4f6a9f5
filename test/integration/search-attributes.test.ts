/** Registering the trip search attributes on a cluster that lacks them (what a real deployment does once). */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalCliPath } from '../../src/dev/temporal-binaries';
import { loadConfig } from '../../src/config';
import { registerTripSearchAttributes } from '../../src/observability/register-search-attributes';
import { tripStartOptions } from '../../src/trips/start-options';
import { bookTrip } from '../../src/workflows';
import { sampleTrip } from '../../src/testkit/sample-trip';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  // A bare dev server: none of the trip search attributes registered.
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath(loadConfig()) }, ip: '127.0.0.1' },
  });
});
afterAll(async () => {
  await env?.teardown();
});

const start = () => {
  const request = sampleTrip();
  return env.client.workflow.start(bookTrip, {
    ...tripStartOptions(request, `trip-${randomUUID()}`, 'nobody-polls'),
    args: [request],
  });
};

describe('registerTripSearchAttributes', () => {
  it('refuses trips until the attributes exist, then registers each once as Keyword', async () => {
    await expect(start()).rejects.toMatchObject({ cause: { details: expect.stringMatching(/search attribute/i) } });
    expect((await registerTripSearchAttributes(env.connection, 'default')).sort()).toEqual([
      'CustomerId',
      'TripStatus',
      'TripStep',
    ]);
    expect(await registerTripSearchAttributes(env.connection, 'default')).toEqual([]);
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of ['TripStatus', 'CustomerId', 'TripStep']) expect(customAttributes?.[name]).toBe(2); // KEYWORD
    const handle = await start();
    const described = await handle.describe();
    expect(described.searchAttributes).toMatchObject({ TripStatus: ['PENDING'], CustomerId: ['cust-42'] });
    expect(described.memo).toMatchObject({ request: { payment: { token: '…visa', amountCents: 123400 } } });
    await handle.terminate('test done');
  });
});
