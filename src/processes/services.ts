/**
 * `npm run services [-- flight hotel …]`: runs the booking services (all four by default), each
 * on its own port with its own database, until SIGINT/SIGTERM.
 */
import { BOOKING_SERVICES, loadConfig, type BookingServiceName } from '../config';
import { startBookingService, type RunningService } from '../services/booking-service';

async function main(): Promise<void> {
  const config = loadConfig();
  const wanted = process.argv.slice(2);
  for (const name of wanted) {
    if (!(BOOKING_SERVICES as readonly string[]).includes(name)) {
      throw new Error(`unknown service "${name}" (known: ${BOOKING_SERVICES.join(', ')})`);
    }
  }
  const names = (wanted.length > 0 ? wanted : [...BOOKING_SERVICES]) as BookingServiceName[];
  const running: RunningService[] = [];
  const stop = async () => {
    await Promise.allSettled(running.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for (const name of names) {
    const service = await startBookingService(name, config, { logger: { level: config.logLevel } });
    running.push(service);
    console.log(
      JSON.stringify({ msg: 'service listening', service: name, url: service.url, faults: config.faults ?? null }),
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
