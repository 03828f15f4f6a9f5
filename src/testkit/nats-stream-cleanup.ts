/** Tests and tools that make a JetStream stream of their own remove it: the machine's NATS is shared. */
import { connect } from 'nats';

/** Deletes `stream` on the NATS server at `url`; a server or stream that is gone is not an error. */
export async function deleteStreamQuietly(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 3_000 }).catch(() => undefined);
  if (!nc) return;
  try {
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
