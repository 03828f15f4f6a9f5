/** The client script against the real stack: the --json contract, one trip per --id, errors. */
import { randomUUID } from 'node:crypto';
import { useClientHarness } from '../support/client-harness';
import { auditTrip, invariantViolations } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';

const { stack: currentStack, client, tripFile } = useClientHarness();

it('books with --wait --json and prints exactly one JSON object', async () => {
  const id = randomUUID();
  const { code, out } = await client('book', tripFile(sampleTrip()), '--id', id, '--wait', '--json');
  expect(code).toBe(0);
  expect(out).toHaveLength(1);
  const printed = JSON.parse(out[0] as string);
  expect(printed).toMatchObject({ tripId: `trip-${id}`, workflowId: `trip-${id}`, status: 'CONFIRMED' });
  expect(Object.keys(printed.steps)).toEqual(['flight', 'hotel', 'car', 'payment']);
});

it('starts one trip when the same --id is booked twice, even at once', async () => {
  const id = randomUUID();
  const file = tripFile(sampleTrip());
  const results = await Promise.all([
    client('book', file, '--id', id, '--json'),
    client('book', file, '--id', id, '--json'),
  ]);
  expect(results.map((r) => r.code)).toEqual([0, 0]);
  await client('book', file, '--id', id, '--wait', '--json');
  const runs = [];
  for await (const wf of currentStack().client.workflow.list({ query: `WorkflowId = 'trip-${id}'` })) runs.push(wf);
  expect(runs.length).toBeLessThanOrEqual(1);
  const audit = await auditTrip(currentStack().config, `trip-${id}`);
  expect(audit.flight).toHaveLength(1);
  expect(audit.payment).toHaveLength(1);
});

it('shows the reason of a compensated trip in status', async () => {
  const id = randomUUID();
  await client('book', tripFile(sampleTrip({ car: { location: 'NOWHERE' } })), '--id', id, '--wait');
  const { code, out } = await client('status', id, '--json');
  expect(code).toBe(0);
  expect(JSON.parse(out[0] as string)).toMatchObject({
    status: 'COMPENSATED',
    reason: { step: 'car', type: 'SoldOutError' },
  });
});

it('refuses an invalid trip file with every problem named, and starts nothing', async () => {
  const bad = { ...sampleTrip(), payment: { token: 'tok_visa', amountCents: -1, currency: 'usd' } };
  const id = randomUUID();
  await expect(client('book', tripFile(bad), '--id', id)).rejects.toThrow(/payment.amountCents[\s\S]*payment.currency/);
  await expect(currentStack().client.workflow.getHandle(`trip-${id}`).describe()).rejects.toThrow(/not found/i);
});

it('reports an unknown trip, and answers bad usage with exit code 2', async () => {
  await expect(client('status', `missing-${randomUUID()}`)).rejects.toThrow(/no trip/);
  expect((await client('frobnicate')).code).toBe(2);
  await expect(client('list', '--status', 'NOPE')).rejects.toThrow(/--status must be one of/);
});

it('cancels a confirmed trip through a cancellation run: refunded, released, and shown as CANCELLED', async () => {
  const id = randomUUID();
  await client('book', tripFile(sampleTrip()), '--id', id, '--wait', '--json');
  const cancelled = await client('cancel', id, '--json');
  expect(cancelled.code).toBe(0);
  expect(JSON.parse(cancelled.out[0] as string)).toMatchObject({ tripId: `trip-${id}`, status: 'CANCELLED' });
  const audit = await auditTrip(currentStack().config, `trip-${id}`);
  expect(invariantViolations('CANCELLED', audit)).toEqual([]);
  expect(audit.payment.map((c) => c.status)).toEqual(['REFUNDED']);
  expect(JSON.parse((await client('status', id, '--json')).out[0] as string)).toMatchObject({ status: 'CANCELLED' });
  // `list --status` finds it among the cancelled trips (visibility is eventually consistent) and
  // no longer among the confirmed ones.
  const listed = async (status: string) =>
    (
      JSON.parse((await client('list', '--status', status, '--limit', '1000', '--json')).out[0] as string) as Array<{
        tripId: string;
        status: string;
      }>
    ).filter((t) => t.tripId === `trip-${id}`);
  let cancelledRows = await listed('CANCELLED');
  for (let i = 0; i < 50 && cancelledRows.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    cancelledRows = await listed('CANCELLED');
  }
  expect(cancelledRows).toEqual([expect.objectContaining({ status: 'CANCELLED' })]);
  expect(await listed('CONFIRMED')).toEqual([]);
  // A second cancel changes nothing and still reports the cancellation.
  expect((await client('cancel', id, '--json')).code).toBe(0);
  expect((await auditTrip(currentStack().config, `trip-${id}`)).payment).toHaveLength(1);
});

it('refuses to cancel a trip that ended compensated', async () => {
  const id = randomUUID();
  await client('book', tripFile(sampleTrip({ hotel: { hotelId: 'H-FULL' } })), '--id', id, '--wait');
  const res = await client('cancel', id);
  expect(res.code).toBe(1);
  expect(res.err.join('\n')).toMatch(/already ended COMPENSATED/);
});

it('never books again under an id whose trip was cancelled and whose runs Temporal no longer has', async () => {
  const id = randomUUID();
  const file = tripFile(sampleTrip());
  expect(JSON.parse((await client('book', file, '--id', id, '--wait', '--json')).out[0] as string).status).toBe(
    'CONFIRMED',
  );
  expect((await client('cancel', id, '--json')).code).toBe(0);
  // Namespace retention (or an operator) deletes both closed runs.
  const { client: temporal, config } = currentStack();
  for (const workflowId of [`trip-${id}`, `cancel-trip-${id}`]) {
    await temporal.workflowService.deleteWorkflowExecution({
      namespace: config.temporal.namespace,
      workflowExecution: { workflowId },
    });
  }
  for (const workflowId of [`trip-${id}`, `cancel-trip-${id}`]) {
    const gone = async () =>
      temporal.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => false,
          () => true,
        );
    // Deletion is asynchronous on the server.
    const deadline = Date.now() + 90_000;
    while (!(await gone()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect([workflowId, await gone()]).toEqual([workflowId, true]);
  }

  const again = await client('book', file, '--id', id, '--wait', '--json');
  expect(again.code).toBe(1);
  expect(JSON.parse(again.out[0] as string)).toMatchObject({
    status: 'COMPENSATED',
    reason: { step: 'flight', type: 'IdempotencyKeyUndoneError' },
  });
  expect(again.err.join('\n')).toMatch(new RegExp(`trip-${id} was used before and undone.*choose another --id`));
  // Nothing was booked again: the cancelled rows stay the only rows.
  const audit = await auditTrip(config, `trip-${id}`);
  expect(audit.flight.map((r) => r.status)).toEqual(['CANCELLED']);
  expect(audit.hotel.map((r) => r.status)).toEqual(['CANCELLED']);
  expect(audit.car.map((r) => r.status)).toEqual(['CANCELLED']);
  expect(audit.payment.map((c) => c.status)).toEqual(['REFUNDED']);
});

it('refuses an --id whose workflow id would pass the services’ limit, and books the longest one allowed', async () => {
  const longest = randomUUID() + 'x'.repeat(200 - 'trip-'.length - 36);
  const tooLong = `${longest}x`;
  await expect(client('book', tripFile(sampleTrip()), '--id', tooLong)).rejects.toThrow(
    /is 201 characters; at most 200/,
  );
  await expect(currentStack().client.workflow.getHandle(`trip-${tooLong}`).describe()).rejects.toThrow(/not found/i);
  const booked = await client('book', tripFile(sampleTrip()), '--id', longest, '--wait', '--json');
  expect(JSON.parse(booked.out[0] as string)).toMatchObject({ tripId: `trip-${longest}`, status: 'CONFIRMED' });
});
