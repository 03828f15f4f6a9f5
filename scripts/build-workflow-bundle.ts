/**
 * `npm run build` (second half): bundles the deterministic workflow code once, at build time, into
 * dist/workflow-bundle.js. Production workers (NODE_ENV=production) load it instead of running
 * webpack at every start (see src/workers/create-worker.ts). `--out FILE` writes elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULES } from '../src/observability/tracing';
import { WORKFLOW_BUNDLE_PATH } from '../src/workers/create-worker';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--out');
  const out = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1] as string) : WORKFLOW_BUNDLE_PATH;
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules: WORKFLOW_TRACING_MODULES,
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  const kb = Math.round(Buffer.byteLength(code) / 1024);
  console.log(
    JSON.stringify({
      msg: 'workflow bundle written',
      path: path.relative(process.cwd(), out),
      kb,
      ms: Date.now() - started,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
