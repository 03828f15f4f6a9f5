/**
 * A deliberately broken saga for `npm run chaos -- --break compensation-after-step`: a step's
 * compensation counts only once the step has returned success (the next step registers it),
 * the bug the real `Compensations` exists to prevent. A step that committed at the service but
 * whose reply never came (a lost reply, a user cancel while it ran) is then never undone, and the
 * auditor must say so. Swapped in for src/workflows/compensations.ts by broken-worker.ts only.
 */
import { Compensations as RegisteredBeforeTheStep, type CompensationFailure } from '../../workflows/compensations';

export * from '../../workflows/compensations';

export class Compensations extends RegisteredBeforeTheStep {
  private pending?: { name: string; run: () => Promise<void> };

  override add(name: string, run: () => Promise<void>): void {
    if (this.pending) super.add(this.pending.name, this.pending.run);
    this.pending = { name, run };
  }

  override runAll(): Promise<CompensationFailure[]> {
    this.pending = undefined;
    return super.runAll();
  }
}
