/** docker-compose.yml's security wiring: NATS behind a login and off the host, payloads encrypted, the UI's codec. */
import { loadConfig } from '../../src/config';
import { interpolate, projectServices, readComposeFile, serviceEnv } from '../support/compose-file';

const compose = readComposeFile();
const nats = compose.services.nats ?? {};

it('does not publish NATS to the host', () => {
  expect(nats.ports).toBeUndefined();
});

/** The nats service's command line, interpolated like Compose does. */
const natsCommand = (vars: Record<string, string> = {}) =>
  (nats.command as string[]).map((arg) => interpolate(arg, vars));

it('runs NATS with a login, the one every project process presents', () => {
  const command = natsCommand({ NATS_PASSWORD: 's3cret' });
  const flag = (name: string) => command[command.indexOf(name) + 1];
  expect({ user: flag('--user'), pass: flag('--pass') }).toEqual({ user: 'trip', pass: 's3cret' });
  for (const [name, s] of projectServices(compose)) {
    const config = loadConfig(serviceEnv(s, { NATS_PASSWORD: 's3cret' }));
    expect({ name, auth: config.natsAuth }).toEqual({ name, auth: { user: 'trip', pass: 's3cret' } });
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
