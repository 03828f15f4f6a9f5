/**
 * Structured JSON logs (pino) for every process, and the adapter that routes Temporal's SDK logs
 * (workflow, activity and worker lines) into the same stream. Temporal's log context names the
 * run `workflowRunId` in activities and `runId` in workflows; both come out as `runId`.
 */
import pino, { type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Config } from '../config';

/** A pino logger tagged with the process name; JSON on stdout, one object a line. */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  processName: string,
  destination?: pino.DestinationStream,
): PinoLogger {
  const options = { level: config.logLevel, base: { process: processName, pid: process.pid } };
  return destination ? pino(options, destination) : pino(options);
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Normalises Temporal's log metadata: `workflowRunId` → `runId`, errors serialised by pino. */
export function runFields(meta: LogMetadata = {}): Record<string, unknown> {
  // The task token is an opaque binary blob: useless in a log line.
  const rest: Record<string, unknown> = { ...meta };
  const workflowRunId = rest.workflowRunId;
  delete rest.workflowRunId;
  delete rest.taskToken;
  return workflowRunId === undefined ? rest : { ...rest, runId: workflowRunId };
}

/** A Temporal `Logger` writing through pino (for `Runtime.install({ logger })`). */
export function temporalLogger(logger: PinoLogger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger[LEVELS[level]](runFields(meta), message);
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}
