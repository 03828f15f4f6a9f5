/**
 * A tiny health endpoint for long-running processes without an HTTP app of their own (the
 * worker): `GET /healthz` answers 200 while `check()` says ok, else 503. Used by the compose
 * health checks and by orchestrators to stop routing to a process that is draining.
 */
import http from 'node:http';

export interface HealthStatus {
  ok: boolean;
  [detail: string]: unknown;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Starts the endpoint on host:port (port 0 = any free port); resolves once listening. */
export async function startHealthServer(options: {
  host: string;
  port: number;
  check: () => HealthStatus;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    let status: HealthStatus;
    try {
      status = options.check();
    } catch (err) {
      status = { ok: false, error: String(err) };
    }
    res.writeHead(status.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(status));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
