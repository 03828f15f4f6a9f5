/**
 * The floor of `npm run bench`: the saga's shape (four steps in order; a step refused at payment
 * undoes the three before it, in reverse) with steps that do nothing, as local activities. What
 * Temporal itself costs per saga on the same server and worker; bundled by the bench's floor worker.
 */
import { proxyLocalActivities } from '@temporalio/workflow';

export interface FloorActivities {
  floorStep(step: string, refuse: boolean): Promise<void>;
}

const { floorStep } = proxyLocalActivities<FloorActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { nonRetryableErrorTypes: ['RefusedError'] },
});

const STEPS = ['flight', 'hotel', 'car', 'payment'];

export async function floorTrip(refuseAt?: string): Promise<string> {
  const done: string[] = [];
  try {
    for (const step of STEPS) {
      await floorStep(step, step === refuseAt);
      done.push(step);
    }
    return 'CONFIRMED';
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    for (const step of done.reverse()) await floorStep(`undo ${step}`, false);
    return 'COMPENSATED';
  }
}
