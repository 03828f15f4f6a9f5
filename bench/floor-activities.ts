/** The floor's one activity: does nothing but refuse when told to (bench/floor-workflow.ts). */
import { ApplicationFailure } from '@temporalio/common';
import type { FloorActivities } from './floor-workflow';

export const floorActivities: FloorActivities = {
  async floorStep(step, refuse) {
    if (refuse)
      throw ApplicationFailure.create({ type: 'RefusedError', message: `${step} refused`, nonRetryable: true });
  },
};
