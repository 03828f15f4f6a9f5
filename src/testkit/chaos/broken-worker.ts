/**
 * The worker of `npm run chaos -- --break compensation-after-step`: the real worker process,
 * except that its workflow bundle takes broken-compensations.ts in place of
 * src/workflows/compensations.ts. It exists to prove that the chaos auditor fails a saga that
 * breaks its promises.
 */
import path from 'node:path';
import webpack from 'webpack';
import { loadConfig } from '../../config';
import { runWorkerProcess } from '../../workers/run-worker';

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');
const BROKEN = path.join(__dirname, 'broken-compensations.ts');

console.log(JSON.stringify({ msg: 'BROKEN worker (compensations registered after their step)' }));
runWorkerProcess(loadConfig(), {
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
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
