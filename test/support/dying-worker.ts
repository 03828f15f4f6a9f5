/**
 * A trip worker that dies (SIGKILL, no goodbye) right after the activity named by `DIE_AFTER`
 * has done its work and before it reports back: what a crashed worker leaves behind. Run with
 * the environment of a test stack (`node --import tsx test/support/dying-worker.ts`).
 */
import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createTripWorker } from '../../src/workers/create-worker';

const dieAfter = process.env.DIE_AFTER;
if (!dieAfter) throw new Error('DIE_AFTER names the activity after which this worker dies');

const dying: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input, next) {
      const result = await next(input);
      if (ctx.info.activityType === dieAfter) process.kill(process.pid, 'SIGKILL');
      return result;
    },
  },
});

async function main(): Promise<void> {
  const { worker } = await createTripWorker(loadConfig(), { interceptors: { activity: [dying] } });
  console.log('dying worker polling');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
