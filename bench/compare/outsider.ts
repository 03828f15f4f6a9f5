/**
 * What an outsider reads mid-trip: while a trip runs, read all four audit endpoints for it again
 * and again; a snapshot that shows some of the trip's parts booked (ACTIVE or CAPTURED) and not all
 * four is a partial trip. Where the flavour has one point that decides the outcome (2PC's logged
 * decision), snapshots are split at it: one that ended before the decision saw nothing committed.
 */
import type { TripRequest } from '../../src/shared/trip';
import { auditTrip } from '../../src/testkit/stack';
import type { TripOutcome } from '../bench-support';
import type { FlavorUnderTest } from './flavor';

type Audit = Awaited<ReturnType<typeof auditTrip>>;

/** The steps whose row is booked (an active reservation, a captured charge). */
export function visibleSteps(audit: Audit): string[] {
  return Object.entries(audit)
    .filter(([, rows]) => rows.some((r) => r.status === 'ACTIVE' || r.status === 'CAPTURED'))
    .map(([step]) => step);
}

export interface OutsiderReport {
  trips: number;
  snapshots: number;
  /** Snapshots that showed part of a trip, not all of it. */
  partial: number;
  /** Of those, the ones taken wholly before the trip's outcome was decided (every one, for a saga). */
  partialBeforeDecision: number;
  /** Partial snapshots after a logged decision (2PC's phase 2 commits participants one by one). */
  partialAfterDecision: number;
  /** The first partial view seen, e.g. ["flight"]. */
  firstPartial: string[] | null;
  decisionPoint: string;
}

/** Runs the trips one after another, each watched by an outsider until it ends. */
export async function watchTrips(
  flavor: FlavorUnderTest,
  trips: Array<{ tripId: string; request: TripRequest; expected: string }>,
): Promise<{ report: OutsiderReport; outcomes: TripOutcome[] }> {
  const report: OutsiderReport = {
    trips: trips.length,
    snapshots: 0,
    partial: 0,
    partialBeforeDecision: 0,
    partialAfterDecision: 0,
    firstPartial: null,
    decisionPoint: flavor.decidedAt
      ? 'the decision logged by the coordinator'
      : 'none: every step commits on its own, so every snapshot before the end counts',
  };
  const outcomes: TripOutcome[] = [];
  for (const { tripId, request, expected } of trips) {
    let done = false;
    const running = flavor.book(tripId, request).finally(() => (done = true));
    const snapshots: Array<{ endedAt: number; visible: string[] }> = [];
    while (!done) {
      const visible = visibleSteps(await auditTrip(flavor.config, tripId));
      snapshots.push({ endedAt: Date.now(), visible });
    }
    const status = await running;
    outcomes.push({ workflowId: tripId, status, expected });
    const decidedAt = await flavor.decidedAt?.(tripId);
    for (const { endedAt, visible } of snapshots) {
      report.snapshots++;
      if (visible.length === 0 || visible.length === 4) continue;
      report.partial++;
      report.firstPartial ??= visible;
      if (decidedAt === undefined || endedAt < decidedAt) report.partialBeforeDecision++;
      else report.partialAfterDecision++;
    }
  }
  return { report, outcomes };
}
