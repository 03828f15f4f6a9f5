/** The one config: defaults for the embedded stack, and a misconfiguration that names its variable. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { configProblems } from '../support/config-problems';

describe('loadConfig', () => {
  it('describes the embedded stack when nothing is set', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'trips' });
    expect(config.temporal.tls).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.host).toBe('127.0.0.1');
    expect(config.services.flight.url).toBe('http://127.0.0.1:4001');
    expect(config.worker).toMatchObject({ healthPort: undefined, shutdownGraceMs: 30_000, prebuiltBundle: false });
    expect(config.tools).toEqual({ python: 'python3', searchPath: '' });
  });

  it('loads the prebuilt workflow bundle only with NODE_ENV=production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).worker.prebuiltBundle).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).worker.prebuiltBundle).toBe(false);
  });

  it('reads a real deployment: cluster, namespace, PostgreSQL, NATS, service URLs, worker health', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
      TEMPORAL_API_KEY: 'secret-key',
      DATABASE_URL: 'postgres://trip:trip@db:5432/trip_saga',
      NATS_URL: 'nats://nats:4222',
      HOST: '0.0.0.0',
      FLIGHT_URL: 'http://flight:4001/',
      WORKER_HEALTH_PORT: '8081',
      WORKER_SHUTDOWN_GRACE_MS: '5000',
    });
    expect(config.temporal).toMatchObject({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      namespace: 'my-ns.a1b2c',
      apiKey: 'secret-key',
    });
    expect(config.databaseUrl).toBe('postgres://trip:trip@db:5432/trip_saga');
    expect(config.natsUrl).toBe('nats://nats:4222');
    expect(config.services.flight.url).toBe('http://flight:4001');
    // Binding every interface must not leak into the URLs other processes call.
    expect(config.services.hotel.url).toBe('http://127.0.0.1:4002');
    expect(config.worker).toMatchObject({ healthPort: 8081, shutdownGraceMs: 5000 });
  });

  it('takes the mTLS client certificate and key when both files exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-config-'));
    try {
      const [cert, key] = [path.join(dir, 'client.pem'), path.join(dir, 'client.key')];
      fs.writeFileSync(cert, 'cert');
      fs.writeFileSync(key, 'key');
      const config = loadConfig({
        TEMPORAL_TLS_CERT: cert,
        TEMPORAL_TLS_KEY: key,
        TEMPORAL_TLS_SERVER_NAME: 'ns.tmprl.cloud',
      });
      expect(config.temporal.tls).toEqual({
        certPath: cert,
        keyPath: key,
        caPath: undefined,
        serverName: 'ns.tmprl.cloud',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['TEMPORAL_ADDRESS', { TEMPORAL_ADDRESS: 'temporal' }],
    ['TEMPORAL_NAMESPACE', { TEMPORAL_NAMESPACE: '' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/trips' }],
    ['NATS_URL', { NATS_URL: 'http://nats:4222' }],
    ['FLIGHT_PORT', { FLIGHT_PORT: 'http' }],
    ['PAYMENT_URL', { PAYMENT_URL: 'payment:4004' }],
    ['WORKER_HEALTH_PORT', { WORKER_HEALTH_PORT: '70000' }],
    ['WORKER_SHUTDOWN_GRACE_MS', { WORKER_SHUTDOWN_GRACE_MS: '-1' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['TEMPORAL_TLS_KEY', { TEMPORAL_TLS_CERT: __filename }],
    ['TEMPORAL_TLS_CERT', { TEMPORAL_TLS_CERT: '/nonexistent/client.pem', TEMPORAL_TLS_KEY: __filename }],
    [
      'TEMPORAL_TLS_CA',
      { TEMPORAL_TLS_CERT: __filename, TEMPORAL_TLS_KEY: __filename, TEMPORAL_TLS_CA: '/nonexistent/ca.pem' },
    ],
  ])('rejects a bad %s, naming it', (variable, env) => {
    const problems = configProblems(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(variable);
  });
});

describe('a process started with a misconfiguration', () => {
  it('exits 1 at once with a message naming the variable, before connecting anywhere', () => {
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/workers/worker.ts'], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: 'temporal',
        WORKER_HEALTH_PORT: 'eighty',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid configuration/);
    expect(run.stderr).toMatch(/WORKER_HEALTH_PORT/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
