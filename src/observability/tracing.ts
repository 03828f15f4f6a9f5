/**
 * The one tracing setup every process entry calls first (docs/tracing.md): an OpenTelemetry SDK
 * exporting over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER) says so,
 * nothing at all otherwise. It also feeds the spans the workflow sandbox makes (Temporal's
 * interceptors send them out through a sink) into the same pipeline.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { TracingConfig } from '../config';

export interface Tracing {
  provider: NodeTracerProvider;
  processor: SpanProcessor;
  resource: Resource;
  /**
   * Flushes what is buffered and uninstalls the SDK (the API turns back into no-ops). Never
   * throws: spans that cannot be exported (collector unreachable) are reported on stderr and
   * dropped, so a process still stops as cleanly as it would without tracing.
   */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Installs an SDK sending every span to `processor` as the process's global tracer provider, with
 * W3C trace-context propagation and an AsyncLocalStorage context manager. Tests pass an in-memory
 * exporter's processor; processes go through `startTracing`.
 */
export function installTracing(processor: SpanProcessor, serviceName: string): Tracing {
  if (installed) throw new Error('tracing is already installed in this process');
  const resource = Resource.default().merge(new Resource({ 'service.name': serviceName }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  const tracing: Tracing = {
    provider,
    processor,
    resource,
    async shutdown() {
      if (installed !== tracing) return;
      installed = undefined;
      await provider.shutdown().catch((err: unknown) => {
        console.error(`tracing: the last spans could not be exported: ${String(err)}`);
      });
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  installed = tracing;
  return tracing;
}

/**
 * Tracing as the OTEL_* variables ask (config.tracing), named `OTEL_SERVICE_NAME` or
 * `trip-saga-<processName>`; undefined when tracing is off (the default).
 */
export function startTracing(config: { tracing: TracingConfig }, processName: string): Tracing | undefined {
  const { exporter, url, headers, serviceName } = config.tracing;
  if (exporter === 'none') return undefined;
  const spans = exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter({ url, headers });
  return installTracing(new BatchSpanProcessor(spans), serviceName ?? `trip-saga-${processName}`);
}

/** Whether this process has a tracer provider installed (OTEL_* asked for it, or a test did). */
export const tracingInstalled = (): boolean => installed !== undefined;

/**
 * The sink through which the workflow interceptors (WORKFLOW_TRACING_MODULES) hand their spans
 * to the worker: the installed SDK's processor, or a no-op when tracing is off (the prebuilt
 * workflow bundle always holds the interceptors, so it needs the sink either way).
 */
export function workflowTracingSinks(): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  return {
    exporter: makeWorkflowExporter(
      installed?.processor ?? new NoopSpanProcessor(),
      installed?.resource ?? Resource.empty(),
    ),
  };
}

/** A `RunActivity:<name>` span around each activity, the child of the workflow's schedule span. */
export const activityTracingInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/** The module the workflow bundle loads so workflow runs make spans (see create-worker.ts). */
export const WORKFLOW_TRACING_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];
