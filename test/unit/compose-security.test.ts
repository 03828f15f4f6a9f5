/** docker-compose.yml's security wiring: NATS behind a login and off the host, payloads encrypted, the UI's codec. */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { PROJECT_DIR, projectServices, readComposeFile, serviceEnv } from '../support/compose-file';

const compose = readComposeFile();
const nats = compose.services.nats ?? {};

it('does not publish NATS to the host', () => {
  expect(nats.ports).toBeUndefined();
});

it('runs NATS with the authorization file, whose login is the one every project process presents', () => {
  const command = nats.command as string[];
  const conf = command[command.indexOf('-c') + 1] ?? '';
  const mounted = (nats.volumes as string[]).find((v) => v.split(':')[1] === conf);
  expect(mounted).toBe('./deploy/nats/nats.conf:/etc/nats/trip-saga.conf:ro');
  const text = fs.readFileSync(path.join(PROJECT_DIR, 'deploy', 'nats', 'nats.conf'), 'utf8');
  expect(text).toMatch(/authorization\s*\{[^}]*user:\s*\$NATS_USER,\s*password:\s*\$NATS_PASSWORD/);
  const server = serviceEnv(nats, { NATS_PASSWORD: 's3cret' });
  for (const [name, s] of projectServices(compose)) {
    const config = loadConfig(serviceEnv(s, { NATS_PASSWORD: 's3cret' }));
    expect({ name, auth: config.natsAuth }).toEqual({
      name,
      auth: { user: server.NATS_USER, pass: server.NATS_PASSWORD },
    });
  }
});

it('gives every project process the same payload keys, and the Web UI the API codec endpoint', () => {
  const keys = projectServices(compose).map(([, s]) => loadConfig(serviceEnv(s)).codec.keys.map((k) => k.id));
  expect(new Set(keys.map((k) => k.join(',')))).toEqual(new Set(['compose-dev']));
  const ui = serviceEnv(compose.services['temporal-ui'] ?? {});
  const api = loadConfig(serviceEnv(compose.services.api ?? {}));
  expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe('http://localhost:3000/codec');
  expect(new URL(api.temporal.uiUrl).origin).toBe('http://localhost:8233');
});
