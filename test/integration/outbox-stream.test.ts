/** The JetStream stream the relay creates keeps messages for the outbox retention, not forever. */
import { randomUUID } from 'node:crypto';
import { nanos } from 'nats';
import { connectNats, ensureStream, streamSettingsFrom } from '../../src/outbox/nats-stream';

it('creates the stream with max_age from the outbox retention and the two-minute duplicate window', async () => {
  const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', 'stream-test');
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const settings = streamSettingsFrom('nats://127.0.0.1:4222', {
    stream: `TEST_RETENTION_${id}`,
    subjectPrefix: `retention${id}.events`,
    retentionMs: 7 * 86_400_000,
    webhookSecret: 'test-webhook-secret-0123456789',
  });
  const jsm = await nc.jetstreamManager();
  try {
    await ensureStream(jsm, settings);
    // A second process calling it again finds the stream and leaves it as it is.
    await ensureStream(jsm, settings);
    const info = await jsm.streams.info(settings.stream);
    expect(info.config.max_age).toBe(nanos(7 * 86_400_000));
    expect(info.config.duplicate_window).toBe(nanos(120_000));
    expect(info.config.subjects).toEqual([`retention${id}.events.>`]);
  } finally {
    await jsm.streams.delete(settings.stream).catch(() => undefined);
    await nc.close();
  }
});
