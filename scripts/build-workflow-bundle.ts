/**
 * `npm run build` (second half): bundles the deterministic workflow code once, at build time, into
 * dist/workflow-bundle.js. Production workers (NODE_ENV=production) load it instead of running
 * webpack at every start (see src/workers/create-worker.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_PATH } from '../src/workers/create-worker';

async function main(): Promise<void> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(WORKFLOW_BUNDLE_PATH), { recursive: true });
  fs.writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  const kb = Math.round(Buffer.byteLength(code) / 1024);
  console.log(JSON.stringify({ msg: 'workflow bundle written', path: path.relative(process.cwd(), WORKFLOW_BUNDLE_PATH), kb, ms: Date.now() - started }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
