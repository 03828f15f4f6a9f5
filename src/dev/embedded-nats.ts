/**
 * The embedded stack's NATS server (JetStream on, its own port and data under DATA_DIR/nats), for
 * the outbox relay, the notifications consumer and the choreographed trip. While it runs its URL
 * is kept in DATA_DIR/nats-url, so a client script in another shell finds it like the dev token.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

const URL_FILE = 'nats-url';

export function embeddedNatsArgs(config: Pick<Config, 'host' | 'dataDir' | 'nats'>): string[] {
  return [
    '-a',
    config.host === '0.0.0.0' ? '127.0.0.1' : config.host,
    '-p',
    String(config.nats.port),
    '-js',
    '-sd',
    path.join(config.dataDir, 'nats'),
    '-n',
    'trip-saga-embedded',
  ];
}

export const embeddedNatsUrlOf = (config: Pick<Config, 'host' | 'nats'>): string =>
  `nats://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.nats.port}`;

/** Records the running embedded server's URL (or forgets it with undefined). */
export function recordEmbeddedNatsUrl(dataDir: string, url: string | undefined): void {
  const file = path.join(dataDir, URL_FILE);
  if (url === undefined) fs.rmSync(file, { force: true });
  else fs.writeFileSync(file, `${url}\n`);
}

/** NATS_URL, else the embedded server's while `npm start` runs it, else undefined. */
export function natsUrlFor(config: Pick<Config, 'natsUrl' | 'dataDir'>): string | undefined {
  if (config.natsUrl) return config.natsUrl;
  const file = path.join(config.dataDir, URL_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined;
}
