/** What `loadConfig` refuses in an environment: its ConfigError's issues, or none when it loads. */
import { ConfigError, loadConfig } from '../../src/config';

export function configProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}
