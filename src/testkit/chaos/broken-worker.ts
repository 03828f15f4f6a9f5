/**
 * The worker of `npm run chaos -- --break compensation-after-step`: the real worker, except that
 * its workflow bundle takes broken-compensations.ts in place of src/workflows/compensations.ts.
 * It exists to prove that the chaos auditor fails a saga that breaks its promises.
 */
import path from 'node:path';
import webpack from 'webpack';
import { loadConfig } from '../../config';
import { startHealthServer } from '../../http/health-server';
import { createTripWorker } from '../../workers/create-worker';

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');
const BROKEN = path.join(__dirname, 'broken-compensations.ts');

async function main(): Promise<void> {
  const config = loadConfig();
  const { worker, connection, apiDb } = await createTripWorker(config, {
    shutdownGraceTime: config.worker.shutdownGraceMs,
    bundlerOptions: {
      webpackConfigHook: (webpackConfig) => ({
        ...webpackConfig,
        plugins: [
          ...(webpackConfig.plugins ?? []),
          new webpack.NormalModuleReplacementPlugin(
            /^\.\/compensations$/,
            (resource: { context: string; request: string }) => {
              if (resource.context === WORKFLOWS_DIR) resource.request = BROKEN;
            },
          ),
        ],
      }),
    },
  });
  const health = config.worker.healthPort
    ? await startHealthServer({
        host: config.host,
        port: config.worker.healthPort,
        check: () => ({ ok: worker.getState() === 'RUNNING' }),
      })
    : undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => worker.shutdown());
  console.log(JSON.stringify({ msg: 'BROKEN worker polling (compensations registered after their step)' }));
  try {
    await worker.run();
  } finally {
    await health?.close();
    await connection.close();
    await apiDb.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
