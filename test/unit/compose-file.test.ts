/**
 * docker-compose.yml cannot be run here (no Docker), so it is validated instead: against the
 * Compose specification's JSON schema (test/fixtures/compose-spec.json, compose-spec/compose-spec
 * schema/compose-spec.json), and against what the project's processes actually read and run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { envSchema, loadConfig } from '../../src/config';
import { TRIP_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import {
  COMPOSE_PATH,
  PROJECT_DIR,
  healthPort,
  projectServices,
  readComposeFile,
  serviceEnv,
  sourceEntry,
  type ComposeFile,
} from '../support/compose-file';

const compose = readComposeFile();
const project = projectServices(compose);
const thirdParty = Object.entries(compose.services).filter(([, s]) => s.build === undefined);

function composeValidator() {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'compose-spec.json'), 'utf8'));
  // The spec's schema is draft-07 with a few non-standard keywords (`deprecated`): not strict.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is rejected by the same schema when a service is malformed (the check is not a no-op)', () => {
    const broken = JSON.parse(JSON.stringify(compose)) as ComposeFile;
    (broken.services.worker as Record<string, unknown>).depends_on = { flight: { condition: 'service_ready' } };
    (broken.services.flight as Record<string, unknown>).restart_policy = 'always';
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/services/worker/depends_on/flight/condition', '/services/flight']));
  });

  it('names only environment variables that src/config.ts knows, in every project service', () => {
    const known = new Set(Object.keys(envSchema.shape));
    const unknown = project.flatMap(([name, s]) =>
      Object.keys(serviceEnv(s))
        .filter((v) => !known.has(v))
        .map((v) => `${name}: ${v}`),
    );
    expect(unknown).toEqual([]);
    expect(project.length).toBeGreaterThanOrEqual(8);
  });

  it('gives every project service an environment that loads as a valid configuration', () => {
    for (const [name, s] of project) {
      const env = serviceEnv(s);
      const config = (() => {
        try {
          return loadConfig(env);
        } catch (err) {
          throw new Error(`${name}: ${String(err)}`);
        }
      })();
      expect({ name, host: config.host, db: config.databaseUrl?.replace(/\/\/[^@]*@/, '//') }).toEqual({
        name,
        host: '0.0.0.0',
        db: 'postgres://postgresql:5432/trip_saga',
      });
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.natsUrl).toBe('nats://nats:4222');
      expect(config.services.flight.url).toBe('http://flight:4001');
      expect(config.services.payment.url).toBe('http://payment:4004');
    }
  });

  it('points every process at Temporal Cloud when the TEMPORAL_CLOUD_* variables are exported', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-cloud-'));
    try {
      const apiKey = {
        TEMPORAL_CLOUD_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
        TEMPORAL_CLOUD_NAMESPACE: 'trips.a1b2c',
        TEMPORAL_CLOUD_API_KEY: 'k-123',
      };
      const [cert, key] = [path.join(dir, 'client.pem'), path.join(dir, 'client.key')];
      fs.writeFileSync(cert, 'cert');
      fs.writeFileSync(key, 'key');
      const mtls = {
        TEMPORAL_CLOUD_ADDRESS: 'trips.a1b2c.tmprl.cloud:7233',
        TEMPORAL_CLOUD_NAMESPACE: 'trips.a1b2c',
        TEMPORAL_CLOUD_TLS_CERT: cert,
        TEMPORAL_CLOUD_TLS_KEY: key,
      };
      for (const [name, s] of project) {
        const viaKey = loadConfig(serviceEnv(s, apiKey)).temporal;
        expect({ name, ...viaKey }).toMatchObject({
          name,
          address: apiKey.TEMPORAL_CLOUD_ADDRESS,
          namespace: 'trips.a1b2c',
          apiKey: 'k-123',
          tls: undefined,
        });
        const viaCert = loadConfig(serviceEnv(s, mtls)).temporal;
        expect({ name, ...viaCert }).toMatchObject({
          name,
          address: mtls.TEMPORAL_CLOUD_ADDRESS,
          apiKey: undefined,
          tls: { certPath: cert, keyPath: key },
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins every third-party image to a version and never uses temporalio/auto-setup', () => {
    for (const [name, s] of thirdParty) {
      // A version tag, `v` first allowed (Prometheus tags its images `v3.1.0`).
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/^[a-z0-9./-]+:v?[0-9][\w.-]*$/) });
      expect(s.image).not.toMatch(/:latest$|auto-setup/);
    }
    const images = thirdParty.map(([, s]) => (s.image ?? '').split(':')[0]);
    expect(images).toEqual(
      expect.arrayContaining(['postgres', 'temporalio/server', 'temporalio/admin-tools', 'temporalio/ui', 'nats']),
    );
    expect(fs.readFileSync(COMPOSE_PATH, 'utf8')).not.toMatch(/auto-setup/);
    for (const [, s] of project) expect(s.image).toMatch(/^trip-saga:\d+\.\d+\.\d+$/);
  });

  it('sets Temporal up with one-shot admin-tools jobs the server and the processes wait for', () => {
    const { services } = compose;
    expect(services['temporal-schema']?.image).toMatch(/^temporalio\/admin-tools:/);
    expect(services.temporal?.depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
    expect(services['temporal-setup']?.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(services.worker?.depends_on).toMatchObject({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
    expect(services.nats?.command).toContain('-js');
    for (const script of ['setup-schema.sh', 'setup-namespace.sh']) {
      const command = [services['temporal-schema'], services['temporal-setup']].flatMap((s) => s?.command ?? []);
      expect(command).toContain(`/deploy/temporal/${script}`);
      expect(fs.existsSync(path.join(PROJECT_DIR, 'deploy', 'temporal', script))).toBe(true);
    }
  });

  it('registers exactly the search attributes the workflow upserts, as Keyword', () => {
    const script = fs.readFileSync(path.join(PROJECT_DIR, 'deploy', 'temporal', 'setup-namespace.sh'), 'utf8');
    const listed = /SEARCH_ATTRIBUTES="([^"]*)"/.exec(script)?.[1]?.split(/\s+/).filter(Boolean);
    expect(listed?.sort()).toEqual(TRIP_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
    expect(TRIP_SEARCH_ATTRIBUTES.every((k) => k.type === 'KEYWORD')).toBe(true);
    expect(script).toMatch(/--type Keyword/);
  });

  it('waits only on conditions that can be met: health checks exist, one-shot jobs end', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, dependsOnIsLongForm: !Array.isArray(s.depends_on) }).toEqual({ name, dependsOnIsLongForm: true });
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect({ name, dep, exists: Boolean(target) }).toEqual({ name, dep, exists: true });
        if (condition === 'service_healthy')
          expect({ dep, healthcheck: Boolean(target?.healthcheck?.test) }).toEqual({ dep, healthcheck: true });
        if (condition === 'service_completed_successfully')
          expect({ dep, restart: target?.restart }).toEqual({
            dep,
            restart: expect.stringMatching(/^(no|on-failure(:\d+)?)$/),
          });
      }
    }
  });

  it('runs entry points that exist in src/, with health checks on the ports the processes listen on', () => {
    for (const [name, s] of project) {
      const { script } = sourceEntry(s);
      expect({ name, script, exists: fs.existsSync(path.join(PROJECT_DIR, script)) }).toEqual({
        name,
        script,
        exists: true,
      });
      const probed = healthPort(s);
      if (probed === undefined) continue;
      const env = serviceEnv(s);
      const listens = Object.entries(env)
        .filter(([k]) => /_PORT$/.test(k))
        .map(([, v]) => Number(v));
      expect({ name, probed, listens: listens.includes(probed) }).toEqual({ name, probed, listens: true });
    }
    const byScript = (entry: string) => project.filter(([, s]) => sourceEntry(s).script === entry).map(([n]) => n);
    expect(byScript('src/processes/services.ts').sort()).toEqual(['car', 'flight', 'hotel', 'payment']);
    expect(byScript('src/workers/worker.ts')).toEqual(['worker']);
    expect(byScript('src/processes/relay.ts')).toEqual(['relay']);
    expect(byScript('src/processes/notifications.ts')).toEqual(['notifications']);
    expect(byScript('src/processes/api.ts')).toEqual(['api']);
  });

  it('runs at least two workers with a health check and a stop grace period longer than the drain', () => {
    const worker = compose.services.worker!;
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
    const env = serviceEnv(worker);
    expect(healthPort(worker)).toBe(Number(env.WORKER_HEALTH_PORT));
    const grace = /^(\d+)s$/.exec(String(worker.stop_grace_period))?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(Number(env.WORKER_SHUTDOWN_GRACE_MS));
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
  });
});

/** Packages imported (at run time, not `import type`) by the modules reachable from an entry file. */
function runtimePackages(entry: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  const file = [entry, `${entry}.ts`, path.join(entry, 'index.ts')].find(
    (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
  );
  if (!file || seen.has(file)) return found;
  seen.add(file);
  const source = fs.readFileSync(file, 'utf8');
  const specifiers = [
    ...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms),
    ...source.matchAll(/^import\s+'([^']+)'/gm),
    ...source.matchAll(/\brequire(?:\.resolve)?\('([^']+)'\)/g),
  ].map((m) => m[1] as string);
  for (const spec of specifiers) {
    if (spec.startsWith('.')) runtimePackages(path.resolve(path.dirname(file), spec), seen, found);
    else if (!spec.startsWith('node:'))
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return found;
}

describe('the image', () => {
  it('needs only production dependencies for every compose command (it installs with --omit=dev)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const needed = new Set<string>();
    for (const [, s] of project) runtimePackages(path.join(PROJECT_DIR, sourceEntry(s).script), new Set(), needed);
    for (const p of ['@temporalio/worker', '@temporalio/client', 'fastify', 'knex', 'pg', 'nats', 'zod'])
      expect(needed).toContain(p);
    expect([...needed].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(PROJECT_DIR, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1] ?? '';

  it('builds in stages and runs as a non-root user with production dependencies and the prebuilt bundle', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/COPY --from=prod-deps .*node_modules/);
    expect(runtime).toMatch(/COPY --from=build .*\/app\/dist \.\/dist/);
    expect(runtime).not.toMatch(/npm (ci|install)(?! --omit=dev)/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
  });

  it('keeps the build context small and free of local state', () => {
    const ignored = fs
      .readFileSync(path.join(PROJECT_DIR, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.tools', '.git', '.env']));
    for (const needed of ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'examples'])
      expect(ignored).not.toContain(needed);
  });
});
