/** The saga end to end: real Temporal dev server, real services on SQLite, real worker. */
import { randomUUID } from 'node:crypto';
import { bookTrip } from '../../src/workflows';
import { auditTrip, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { sampleTrip } from '../../src/testkit/sample-trip';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const book = (request = sampleTrip(), workflowId = `trip-${randomUUID()}`) =>
  stack.client.workflow.execute(bookTrip, { taskQueue: stack.config.temporal.taskQueue, workflowId, args: [request] });

describe('bookTrip against the real services', () => {
  it('confirms a trip with exactly one active reservation per service and one captured charge', async () => {
    const view = await book();
    expect(view.status).toBe('CONFIRMED');
    const audit = await auditTrip(stack.config, view.tripId);
    expect(invariantViolations(view.status, audit)).toEqual([]);
    expect(audit.flight[0]?.idempotencyKey).toBe(`${view.workflowId}:flight`);
    expect(audit.payment[0]?.status).toBe('CAPTURED');
  });

  const triggers = [
    ['flight', sampleTrip({ flight: { flightNumber: 'SOLDOUT1' } }), 'SoldOutError'],
    ['hotel', sampleTrip({ hotel: { hotelId: 'H-FULL' } }), 'SoldOutError'],
    ['car', sampleTrip({ car: { location: 'NOWHERE' } }), 'SoldOutError'],
    ['payment', sampleTrip({ payment: { token: 'tok_declined' } }), 'PaymentDeclinedError'],
  ] as const;
  it.each(triggers)('leaves nothing active when the %s step fails', async (step, request, type) => {
    const view = await book(request);
    expect(view.status).toBe('COMPENSATED');
    expect(view.reason).toMatchObject({ step, type });
    const audit = await auditTrip(stack.config, view.tripId);
    expect(invariantViolations(view.status, audit)).toEqual([]);
    // Steps before the failed one were really booked, then undone.
    const before = ['flight', 'hotel', 'car'].slice(0, ['flight', 'hotel', 'car', 'payment'].indexOf(step));
    for (const s of before) expect(audit[s as 'flight'].map((r) => r.status)).toEqual(['CANCELLED']);
  });

  it('books once when the same trip is started twice with one workflow id', async () => {
    const workflowId = `trip-${randomUUID()}`;
    const options = {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId,
      args: [sampleTrip()] as [ReturnType<typeof sampleTrip>],
    };
    const first = await stack.client.workflow.start(bookTrip, options);
    await expect(stack.client.workflow.start(bookTrip, options)).rejects.toThrow(/already started/i);
    const view = await first.result();
    expect(view.status).toBe('CONFIRMED');
    const audit = await auditTrip(stack.config, workflowId);
    expect(audit.flight).toHaveLength(1);
    expect(audit.payment).toHaveLength(1);
  });
});
