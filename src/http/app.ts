/** A Fastify app with the house HTTP rules: JSON bodies only, a body limit, problem+json errors. */
import Fastify, { type FastifyInstance } from 'fastify';
import { installProblemHandlers } from './problem';

export interface HttpAppOptions {
  logger?: boolean | { level: string };
  bodyLimit?: number;
}

export function createHttpApp(options: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 64 * 1024 });
  // Only JSON is accepted: any other Content-Type is a 415, never parsed as something else.
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  return app;
}
