/**
 * A stack of compensations, run in reverse order. Register a compensation *before* its step
 * runs: the call may time out after the service committed, and undo-by-key is safe either way.
 */
import { CancellationScope } from '@temporalio/workflow';

export interface CompensationFailure {
  name: string;
  error: unknown;
}

export class Compensations {
  private readonly stack: Array<{ name: string; run: () => Promise<void> }> = [];

  add(name: string, run: () => Promise<void>): void {
    this.stack.push({ name, run });
  }

  get size(): number {
    return this.stack.length;
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
