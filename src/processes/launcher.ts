/**
 * `npm start`: the whole embedded stack on this machine. A Temporal dev server (SQLite file under
 * .data/, Web UI), the booking services, the worker and the other processes, then a sample trip.
 * Runs until Ctrl-C, which stops every process it started. Set TEMPORAL_ADDRESS to use an
 * existing Temporal server instead of starting one.
 */
import { runEmbeddedStack, stopEmbeddedStack } from '../dev/embedded-stack';

runEmbeddedStack().catch(async (err) => {
  console.error(err);
  await stopEmbeddedStack(1);
});
