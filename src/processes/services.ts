/**
 * `npm run services [-- flight hotel …]`: runs the booking services (all four by default), each
 * on its own port with its own database, until SIGINT/SIGTERM. With NATS_URL each one is also a
 * participant of the choreographed trip (src/choreography/), on the same database and keys.
 */
import pino from 'pino';
import { startStepParticipant } from '../choreography/consumers';
import { BOOKING_SERVICES, loadConfig, type BookingServiceName } from '../config';
import type { RunningConsumer } from '../inbox/jetstream-consumer';
import { connectNats, streamSettingsFrom } from '../outbox/nats-stream';
import { startBookingService, type RunningService } from '../services/booking-service';
import { startTracing } from '../observability/tracing';

async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = startTracing(config, 'services');
  const wanted = process.argv.slice(2);
  for (const name of wanted) {
    if (!(BOOKING_SERVICES as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}" (known: ${BOOKING_SERVICES.join(', ')})`);
    }
  }
  const names = (wanted.length > 0 ? wanted : [...BOOKING_SERVICES]) as BookingServiceName[];
  const running: RunningService[] = [];
  const participants: RunningConsumer[] = [];
  const nc = config.natsUrl ? await connectNats(config.natsUrl, `services-${names.join('-')}`) : undefined;
  const stop = async () => {
    await Promise.allSettled(participants.map((p) => p.stop()));
    await nc?.close();
    await Promise.allSettled(running.map((s) => s.close()));
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for (const name of names) {
    const service = await startBookingService(name, config, { logger: { level: config.logLevel } });
    running.push(service);
    if (nc && config.natsUrl) {
      const options = {
        ...streamSettingsFrom(config.natsUrl, config.outbox),
        ackWaitMs: config.choreography.ackWaitMs,
        logger: pino({ level: config.logLevel, base: { service: name, consumer: 'choreography' } }),
      };
      participants.push(await startStepParticipant(nc, options, service.context, name));
    }
    console.log(
      JSON.stringify({
        msg: 'service listening',
        service: name,
        url: service.url,
        faults: config.faults ?? null,
        choreography: nc ? config.outbox.stream : null,
      }),
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
