/**
 * The client script against the real stack, for jest files: registers beforeAll/afterAll that
 * start and stop the stack, and gives `client(...argv)` (captured output) and `tripFile(request)`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { runClient } from '../../src/client/cli';
import { startStack, type Stack } from '../../src/testkit/stack';

export interface ClientHarness {
  stack(): Stack;
  client(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }>;
  tripFile(request: unknown): string;
}

/** The client script run in this process with `env`, its output captured line by line. */
export function clientWith(env: NodeJS.ProcessEnv) {
  return async (...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runClient(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  };
}

export function useClientHarness(extraEnv: NodeJS.ProcessEnv = {}): ClientHarness {
  let stack: Stack | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    stack = await startStack();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trip-saga-client-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const started = (): Stack => {
    if (!stack) throw new Error('the stack is not started (call useClientHarness at the top of the file)');
    return stack;
  };
  return {
    stack: started,
    client: (...argv) =>
      clientWith({
        TEMPORAL_ADDRESS: started().config.temporal.address,
        DATA_DIR: started().config.dataDir,
        ...extraEnv,
      })(...argv),
    tripFile(request) {
      const file = path.join(dir as string, `${randomUUID()}.json`);
      fs.writeFileSync(file, JSON.stringify(request));
      return file;
    },
  };
}
