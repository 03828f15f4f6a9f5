/**
 * The two-phase-commit coordinator. Phase 1 prepares flight, hotel, car and payment one after the
 * other, in that fixed order (two trips preparing in parallel in different orders could each hold
 * a row the other waits for: a deadlock no database sees, because prepared transactions do not
 * wait). The decision is committed to the log before phase 2; phase 2 retries every participant
 * until it acknowledges. `recover()` finishes what a crashed coordinator left: the logged
 * decision, or abort when none was logged (presumed abort), orphan prepared transactions included.
 */
import type { StepName, TripRequest, TripView } from '../shared/trip';
import { STEPS, stepKey } from '../shared/trip';
import type { Decision, DecisionLog } from './decision-log';
import { callParticipant, type CallCounter, type CallResult } from './participant-client';
import {
  gidFor,
  parseGid,
  type PhaseTwoAnswer,
  type PrepareAnswer,
  type PreparedList,
  TWO_PHASE_PROBLEMS,
} from './protocol';

export interface CoordinatorStats extends CallCounter {
  /** Calls made by recovery passes (listing prepared transactions), apart from the trips' own. */
  recovery: CallCounter;
  /** Transactions the coordinator committed on its own log. */
  logWrites: number;
  /** Per prepared step: from the prepare request to the phase-2 acknowledgement (ms). */
  lockHoldMs: number[];
}

export interface CoordinatorDeps {
  log: DecisionLog;
  /** Base URL of each participant (the booking services). */
  participants: Record<StepName, string>;
  prepareTimeoutMs: number;
  testCrash?: 'none' | 'after-prepare' | 'after-decision';
  onError?: (err: unknown, tripId: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function initialTwoPhaseView(tripId: string): TripView {
  const steps = {} as TripView['steps'];
  for (const step of STEPS) steps[step] = { status: 'PENDING', idempotencyKey: stepKey(tripId, step) };
  return { tripId, workflowId: tripId, status: 'PENDING', steps };
}

export class TwoPhaseCoordinator {
  readonly stats: CoordinatorStats = { calls: 0, recovery: { calls: 0 }, logWrites: 0, lockHoldMs: [] };
  /** Trips this process is working on (their view is fresher than the log's). */
  private readonly inFlight = new Map<string, TripView>();
  private readonly working = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly deps: CoordinatorDeps) {}

  /** Starts a trip, or returns the one already logged under this id. */
  async start(tripId: string, request: TripRequest): Promise<{ view: TripView; created: boolean }> {
    const current = await this.view(tripId);
    if (current) return { view: current, created: false };
    const view = initialTwoPhaseView(tripId);
    // In flight before it is logged: a recovery pass in between must not presume it aborted.
    this.inFlight.set(tripId, view);
    let created = false;
    try {
      created = await this.deps.log.begin(tripId, request, view);
      this.stats.logWrites++;
    } finally {
      if (!created) this.inFlight.delete(tripId);
    }
    if (!created) return { view: (await this.view(tripId)) ?? view, created: false };
    this.track(tripId, this.run(tripId, request, view));
    return { view: { ...view }, created: true };
  }

  /** The trip's view: live while this process works on it, else the logged one. */
  async view(tripId: string): Promise<TripView | undefined> {
    const live = this.inFlight.get(tripId);
    if (live) return structuredClone(live);
    const row = await this.deps.log.find(tripId);
    return row ? (JSON.parse(row.view) as TripView) : undefined;
  }

  /** Resolves once this process no longer works on the trip, or after `ms`. */
  async settledOrTimeout(tripId: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.inFlight.has(tripId) && Date.now() < deadline) await sleep(20);
  }

  /** Stops retrying (phase 2 retries forever otherwise); what is left is recovery's job. */
  stop(): void {
    this.stopping = true;
  }

  /** Stops retrying and waits for the trips in flight to put down their work. */
  async drain(): Promise<void> {
    this.stop();
    await Promise.all([...this.working]);
  }

  private track(tripId: string, work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => this.deps.onError?.(err, tripId))
      .finally(() => {
        this.inFlight.delete(tripId);
        this.working.delete(tracked);
      });
    this.working.add(tracked);
  }

  private crashPoint(point: 'after-prepare' | 'after-decision'): Promise<void> {
    if (this.deps.testCrash !== point) return Promise.resolve();
    process.kill(process.pid, 'SIGKILL');
    return new Promise(() => undefined);
  }

  private async run(tripId: string, request: TripRequest, view: TripView): Promise<void> {
    view.status = 'BOOKING';
    const touched: StepName[] = [];
    const started = new Map<StepName, number>();
    for (const step of STEPS) {
      view.steps[step].status = 'RUNNING';
      started.set(step, Date.now());
      const answer = await this.prepare(tripId, step, request);
      if (answer.vote === 'YES') {
        touched.push(step);
        continue;
      }
      view.steps[step] = { ...view.steps[step], status: 'FAILED', error: answer.error };
      view.reason = { step, ...answer.error };
      // No answer is not a no: it may have prepared after all, so it is rolled back too.
      if (answer.error.type === 'NO_ANSWER') touched.push(step);
      break;
    }
    await this.crashPoint('after-prepare');
    if (this.stopping) return;
    const wanted: Decision = view.reason ? 'ABORT' : 'COMMIT';
    if (wanted === 'ABORT') view.status = 'COMPENSATING';
    const decision = await this.deps.log.decide(tripId, wanted, view);
    this.stats.logWrites++;
    await this.crashPoint('after-decision');
    await this.phaseTwo(tripId, decision, view, touched, started);
  }

  private async prepare(
    tripId: string,
    step: StepName,
    request: TripRequest,
  ): Promise<PrepareAnswer | { vote: 'NO'; error: { type: 'NO_ANSWER'; message: string } }> {
    const gid = gidFor(tripId, step);
    const body = { gid, request: { tripId, ...(request[step] as object) } };
    const deadline = Date.now() + this.deps.prepareTimeoutMs;
    let last = '';
    for (let attempt = 0; Date.now() < deadline && !this.stopping; attempt++) {
      const remaining = Math.max(100, deadline - Date.now());
      const result = await callParticipant<PrepareAnswer>(
        this.stats,
        this.deps.participants[step],
        'POST',
        '/2pc/prepare',
        body,
        remaining,
      );
      if (result.kind === 'answer') return result.body;
      if (result.kind === 'refused') return { vote: 'NO', gid, error: { type: result.code, message: result.message } };
      last = result.message;
      await sleep(Math.min(1000, 50 * 2 ** attempt));
    }
    return { vote: 'NO', error: { type: 'NO_ANSWER', message: `no answer from ${step} (${last})` } };
  }

  /** Sends the decision to `steps` until each acknowledges, then closes the log row. */
  private async phaseTwo(
    tripId: string,
    decision: Decision,
    view: TripView,
    steps: StepName[],
    started = new Map<StepName, number>(),
  ): Promise<void> {
    let broken = false;
    let stopped = false;
    // Each step's outcome shows in the view as soon as it is known (one may be away for long).
    await Promise.all(
      steps.map(async (step) => {
        const outcome = await this.deliver(step, decision, gidFor(tripId, step));
        const began = started.get(step);
        if (began !== undefined) this.stats.lockHoldMs.push(Date.now() - began);
        const was = view.steps[step].status;
        if (outcome === 'stopped') stopped = true;
        else if (decision === 'COMMIT') {
          if (outcome === 'COMMITTED' || outcome === 'ALREADY_COMMITTED') view.steps[step].status = 'DONE';
          else {
            broken = true;
            view.steps[step] = {
              ...view.steps[step],
              status: 'FAILED',
              error: { type: outcome, message: 'the participant has no prepared transaction to commit' },
            };
          }
        } else if (outcome === 'ROLLED_BACK' || (outcome === 'NOTHING_PREPARED' && was === 'RUNNING')) {
          view.steps[step].status = 'COMPENSATED';
        } else if (outcome !== 'NOTHING_PREPARED') {
          broken = true;
          view.steps[step] = {
            ...view.steps[step],
            status: 'COMPENSATION_FAILED',
            error: { type: outcome, message: 'the participant could not roll back' },
          };
        }
      }),
    );
    if (stopped) return;
    view.status = broken ? 'NEEDS_ATTENTION' : decision === 'COMMIT' ? 'CONFIRMED' : 'COMPENSATED';
    await this.deps.log.finish(tripId, view);
    this.stats.logWrites++;
  }

  /** One phase-2 message, retried until answered: the participant's outcome, a refusal code, or 'stopped'. */
  private async deliver(step: StepName, decision: Decision, gid: string): Promise<string> {
    const path = decision === 'COMMIT' ? '/2pc/commit' : '/2pc/rollback';
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return 'stopped';
      const result: CallResult<PhaseTwoAnswer> = await callParticipant(
        this.stats,
        this.deps.participants[step],
        'POST',
        path,
        { gid },
      );
      if (result.kind === 'answer') return result.body.outcome;
      // A participant that cannot prepare has nothing prepared to roll back.
      if (result.kind === 'refused' && result.code === TWO_PHASE_PROBLEMS.unavailable && decision === 'ABORT') {
        return 'NOTHING_PREPARED';
      }
      if (result.kind === 'refused') return result.code;
      await sleep(Math.min(2000, 50 * 2 ** attempt));
    }
  }

  /**
   * Finishes every unfinished trip of the log that this process is not working on (the logged
   * decision, or ABORT when none was logged), then rolls back or commits orphan prepared
   * transactions the participants report. Phase 2 of recovered trips continues in the background.
   */
  async recover(): Promise<{ resumed: string[]; orphans: string[] }> {
    const resumed: string[] = [];
    for (const row of await this.deps.log.unfinished()) {
      if (this.inFlight.has(row.trip_id)) continue;
      const view = JSON.parse(row.view) as TripView;
      this.inFlight.set(row.trip_id, view);
      resumed.push(row.trip_id);
      const work = async () => {
        let decision = row.decision;
        if (!decision) {
          view.status = 'COMPENSATING';
          view.reason ??= { type: 'COORDINATOR_RESTARTED', message: 'no decision was logged: presumed abort' };
          decision = await this.deps.log.decide(row.trip_id, 'ABORT', view);
          this.stats.logWrites++;
        }
        if (decision === 'ABORT') view.status = 'COMPENSATING';
        // Which steps prepared is not logged: every participant gets the decision (idempotent).
        await this.phaseTwo(row.trip_id, decision, view, [...STEPS]);
      };
      this.track(row.trip_id, work());
    }
    const orphans: string[] = [];
    for (const step of STEPS) {
      const listed = await callParticipant<PreparedList>(
        this.stats,
        this.deps.participants[step],
        'GET',
        '/2pc/prepared',
      );
      if (listed.kind !== 'answer') continue;
      for (const { gid } of listed.body.prepared) {
        const parsed = parseGid(gid);
        if (!parsed || this.inFlight.has(parsed.tripId)) continue;
        const row = await this.deps.log.find(parsed.tripId);
        if (row && !row.decision) continue; // the next pass presumes its abort
        // A prepare that arrived after its trip was decided (or one nobody logged): presumed abort.
        const decision: Decision = row?.decision === 'COMMIT' ? 'COMMIT' : 'ABORT';
        orphans.push(gid);
        await this.deliver(parsed.step, decision, gid);
      }
    }
    return { resumed, orphans };
  }
}
