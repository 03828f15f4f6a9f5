/**
 * A stack of compensations, run in reverse order. Register a compensation *before* its step
 * runs: the call may time out after the service committed, and undo-by-key is safe either way.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { StepName, TripView } from '../shared/trip';
import { describeFailure } from './failure-info';

export interface CompensationFailure {
  name: string;
  error: unknown;
}

export class Compensations {
  private readonly stack: Array<{ name: string; run: () => Promise<void> }> = [];

  add(name: string, run: () => Promise<void>): void {
    this.stack.push({ name, run });
  }

  /** Whether a compensation of this name is registered (and has not run yet). */
  has(name: string): boolean {
    return this.stack.some((c) => c.name === name);
  }

  /**
   * Runs every registered compensation, last first, in a scope that cancellation cannot reach.
   * One that fails for good does not stop the others; every such failure is returned.
   */
  async runAll(): Promise<CompensationFailure[]> {
    return CancellationScope.nonCancellable(async () => {
      const failures: CompensationFailure[] = [];
      for (let next = this.stack.pop(); next; next = this.stack.pop()) {
        try {
          await next.run();
        } catch (error) {
          failures.push({ name: next.name, error });
        }
      }
      return failures;
    });
  }
}

/**
 * Wraps the undo of one step so that the trip view (and what `publish` shows of it) follows the
 * compensation: COMPENSATING, then COMPENSATED or COMPENSATION_FAILED with the error.
 */
export function trackedUndo(
  view: TripView,
  step: StepName,
  publish: () => void,
  undo: () => Promise<unknown>,
): () => Promise<void> {
  return async () => {
    view.steps[step] = { ...view.steps[step], status: 'COMPENSATING' };
    publish();
    try {
      await undo();
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATED' };
    } catch (err) {
      view.steps[step] = { ...view.steps[step], status: 'COMPENSATION_FAILED', error: describeFailure(err) };
      throw err;
    } finally {
      publish();
    }
  };
}
