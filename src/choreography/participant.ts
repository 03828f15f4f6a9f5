/**
 * A booking service as a choreography participant: for each event it subscribes to, one
 * transaction on the service's database enters the event in its inbox, runs the step (or its
 * compensation) under the step's key and appends the resulting event to its outbox. The relay
 * publishes that event; the next participant reacts to it. FAULTS apply as on the HTTP routes:
 * `error` refuses the delivery before doing anything, `delay` adds latency, `lost` commits and then
 * "crashes" before the ack, so JetStream delivers the event again and the inbox drops it.
 */
import type { Knex } from 'knex';
import { CHOREOGRAPHY_INBOX_TABLE, enterInbox, isUniqueViolation } from '../inbox/inbox';
import type { ApplyOutcome } from '../inbox/jetstream-consumer';
import { appendEvent } from '../outbox/append-event';
import type { EventEnvelope } from '../outbox/event';
import { injectedDelay, roll } from '../http/faults';
import type { ServiceContext } from '../http/idempotent-route';
import type { StepName } from '../shared/trip';
import { CHOREOGRAPHY_AGGREGATE, type ChoreographyPayload } from './events';
import { runForward, runUndo, type StepOutcome } from './step-actions';
import { subscriptionOf } from './subscriptions';

export class UndeclaredEventError extends Error {
  constructor(
    readonly participant: string,
    readonly consumed: string,
    readonly emitted: string,
  ) {
    super(`${participant} emitted ${emitted} on ${consumed}, which its subscriptions do not declare`);
    this.name = 'UndeclaredEventError';
  }
}

/** Appends a choreography event of `tripId` to the outbox through `trx`. */
export function emitChoreographyEvent(
  trx: Knex | Knex.Transaction,
  eventType: string,
  payload: ChoreographyPayload,
): Promise<string> {
  return appendEvent(trx, { aggregateType: CHOREOGRAPHY_AGGREGATE, aggregateId: payload.tripId, eventType, payload });
}

/** Applies one delivered event for `step`'s service; the consumer acks all but `no-ack`. */
export async function handleStepEvent(
  ctx: ServiceContext,
  step: StepName,
  event: EventEnvelope,
): Promise<ApplyOutcome> {
  const subscription = event.aggregateType === CHOREOGRAPHY_AGGREGATE ? subscriptionOf(step, event.type) : undefined;
  if (!subscription) return 'ignored';
  if (roll(ctx.faults.error)) throw new Error(`${step}: injected fault before handling ${event.type}`);
  await injectedDelay(ctx.faults);
  const payload = event.payload as ChoreographyPayload;
  let emitted: StepOutcome | undefined;
  try {
    emitted = await ctx.db.transaction(async (trx) => {
      if (!(await enterInbox(trx, CHOREOGRAPHY_INBOX_TABLE, event))) return undefined;
      const outcome =
        subscription.action === 'reserve'
          ? await runForward(ctx, trx, step, payload.tripId, payload.request)
          : await runUndo(ctx, trx, step, payload.tripId);
      if (!subscription.emits.includes(outcome.event)) throw new UndeclaredEventError(step, event.type, outcome.event);
      await emitChoreographyEvent(trx, outcome.event, {
        tripId: payload.tripId,
        request: payload.request,
        // A failure travels along the compensation chain, so every later event says why.
        ...(outcome.error ? { error: outcome.error, failedStep: step } : {}),
        ...(!outcome.error && payload.error ? { error: payload.error, failedStep: payload.failedStep } : {}),
      });
      return outcome;
    });
  } catch (err) {
    // The same event, delivered twice at once: the other delivery committed it (anything else
    // that broke a unique key is an error, redelivered).
    if (!isUniqueViolation(err) || !(await ctx.db(CHOREOGRAPHY_INBOX_TABLE).where({ event_id: event.id }).first()))
      throw err;
  }
  if (!emitted) {
    ctx.stats.replayed++;
    return 'duplicate';
  }
  ctx.stats.executed++;
  if (roll(ctx.faults.lost)) {
    ctx.stats.lostReplies++;
    return 'no-ack';
  }
  return 'applied';
}
