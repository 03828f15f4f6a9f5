/** A Fastify app with the house HTTP rules: JSON bodies only, a body limit, problem+json errors. */
import Fastify, { type FastifyInstance } from 'fastify';
import { clientErrorHandler, frameworkErrors, installProblemHandlers } from './framework-errors';
import { installJsonParser } from './json-body';
import { installRequestTracing } from './request-tracing';

export interface HttpAppOptions {
  logger?: boolean | { level: string };
  bodyLimit?: number;
}

export function createHttpApp(options: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    frameworkErrors,
    clientErrorHandler,
  });
  // Only JSON is accepted: any other Content-Type is a 415, never parsed as something else.
  app.removeContentTypeParser('text/plain');
  installJsonParser(app);
  installProblemHandlers(app);
  installRequestTracing(app);
  return app;
}
