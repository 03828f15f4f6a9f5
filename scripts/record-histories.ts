/**
 * Records workflow histories for the replay test (test/replay.test.ts) from real runs on the
 * integration stack: a confirmed trip, compensations at two steps, a user cancel and the
 * cancellation of a confirmed trip.
 * Run after a deliberate, versioned change to the workflow: `npx tsx scripts/record-histories.ts`.
 * It overwrites the unprefixed files: first keep the previous version's under a prefix
 * (`git mv confirmed.json v3-<what-it-was>-confirmed.json`, …) so they go on replaying
 * (docs/workflow-changes.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { tripStartOptions } from '../src/trips/start-options';
import { cancelAnyTrip } from '../src/trips/trip-workflows';
import { cancellationWorkflowId } from '../src/shared/trip';
import { bookTrip, cancelTrip, getTrip } from '../src/workflows';
import { sampleTrip } from '../src/testkit/sample-trip';
import { startStack } from '../src/testkit/stack';

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
      const handle = await stack.client.workflow.start(bookTrip, {
        ...tripStartOptions(request, `trip-fixture-${name}`, taskQueue),
        args: [request],
      });
      await handle.result();
      fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(await handle.fetchHistory()));
    }
    // A user cancel while the payment service is down and the saga waits at its last step.
    await stack.services.payment?.close();
    const handle = await stack.client.workflow.start(bookTrip, {
      ...tripStartOptions(sampleTrip(), 'trip-fixture-cancelled', taskQueue),
      args: [sampleTrip()],
    });
    for (let i = 0; i < 200 && (await handle.query(getTrip)).steps.payment.status !== 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await stack.startService('payment', Number(new URL(stack.config.services.payment.url).port)).catch(() => undefined);
    await handle.executeUpdate(cancelTrip);
    await handle.result();
    fs.writeFileSync(path.join(OUT, 'cancelled.json'), JSON.stringify(await handle.fetchHistory()));
    // The cancellation run of a confirmed trip.
    const confirmed = await stack.client.workflow.getHandle('trip-fixture-confirmed').result();
    await cancelAnyTrip(stack.client, taskQueue, confirmed, 30_000);
    const cancellation = stack.client.workflow.getHandle(cancellationWorkflowId(confirmed.tripId));
    await cancellation.result();
    fs.writeFileSync(path.join(OUT, 'cancel-confirmed.json'), JSON.stringify(await cancellation.fetchHistory()));
    console.log(`recorded ${Object.keys(cases).length + 2} histories in ${OUT}`);
  } finally {
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
