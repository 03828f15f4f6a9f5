/**
 * An activity interceptor that times every saga step (forward call or compensation), records it
 * in the `trip_step_duration` histogram of Temporal's meter (the worker's Prometheus endpoint) and
 * logs one line per attempt; Temporal's activity logger adds workflowId/runId to each line.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { stepKind } from '../shared/saga-steps';

export const stepMetricsInterceptor: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input, next) {
      const { activityType, attempt } = ctx.info;
      const kind = stepKind(activityType);
      const started = process.hrtime.bigint();
      const record = (outcome: 'ok' | 'error', err?: unknown) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        ctx.metricMeter
          .createHistogram('trip_step_duration', 'float', 'ms', 'Duration of one saga step attempt')
          .record(ms, { activity: activityType, kind, outcome });
        if (outcome === 'error' && kind === 'compensation') {
          ctx.metricMeter
            .createCounter(
              'trip_compensation_attempt_failures',
              'attempts',
              'Compensation attempts that failed (retried)',
            )
            .add(1, { activity: activityType });
        }
        const fields = { step: activityType, kind, attempt, outcome, durationMs: Math.round(ms * 10) / 10 };
        if (err)
          ctx.log.warn('activity failed', { ...fields, error: err instanceof Error ? err.message : String(err) });
        else ctx.log.info('activity done', fields);
      };
      try {
        const result = await next(input);
        record('ok');
        return result;
      } catch (err) {
        record('error', err);
        throw err;
      }
    },
  },
});
