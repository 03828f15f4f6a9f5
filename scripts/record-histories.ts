/**
 * Records workflow histories for the replay test (test/replay.test.ts) from real runs on the
 * integration stack: a confirmed trip, compensations at two steps and a user cancel.
 * Run after a deliberate, versioned change to the workflow: `npx tsx scripts/record-histories.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bookTrip, cancelTrip, getTrip } from '../src/workflows';
import { sampleTrip } from '../test/support/sample-trip';
import { startStack } from '../test/support/stack';

const OUT = path.join(__dirname, '..', 'test', 'fixtures', 'histories');

async function main(): Promise<void> {
  const stack = await startStack({ skipServices: [] });
  try {
    const taskQueue = stack.config.temporal.taskQueue;
    const cases = {
      confirmed: sampleTrip(),
      'compensated-hotel-full': sampleTrip({ hotel: { hotelId: 'H-FULL' } }),
      'compensated-payment-declined': sampleTrip({ payment: { token: 'tok_declined' } }),
    };
    fs.mkdirSync(OUT, { recursive: true });
    for (const [name, request] of Object.entries(cases)) {
      const handle = await stack.client.workflow.start(bookTrip, { taskQueue, workflowId: `trip-fixture-${name}`, args: [request] });
      await handle.result();
      fs.writeFileSync(path.join(OUT, `${name}.json`), historyToJSON(await handle.fetchHistory()));
    }
    // A user cancel while the payment service is down and the saga waits at its last step.
    await stack.services.payment?.close();
    const handle = await stack.client.workflow.start(bookTrip, { taskQueue, workflowId: 'trip-fixture-cancelled', args: [sampleTrip()] });
    for (let i = 0; i < 200 && (await handle.query(getTrip)).steps.payment.status !== 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.startService('payment', Number(new URL(stack.config.services.payment.url).port)).catch(() => undefined);
    await handle.executeUpdate(cancelTrip);
    await handle.result();
    fs.writeFileSync(path.join(OUT, 'cancelled.json'), historyToJSON(await handle.fetchHistory()));
    console.log(`recorded ${Object.keys(cases).length + 1} histories in ${OUT}`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
