/**
 * A booking service stand-in for NEEDS_ATTENTION tests: forwards every request to the real service
 * but answers 400 to a compensation (`…/cancel`, `…/refund`) of a trip whose id contains `marker`,
 * so that undo can never succeed and a human is needed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RefusingUndoProxy {
  url: string;
  close(): Promise<void>;
}

export async function startRefusingUndoProxy(target: string, marker: string): Promise<RefusingUndoProxy> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isUndo = /\/(cancel|refund)$/.test(req.url ?? '');
      if (req.method === 'POST' && isUndo && body.toString().includes(marker)) {
        res
          .writeHead(400, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ status: 400, code: 'VALIDATION_FAILED', title: 'refused by the test proxy' }));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => ['content-type', 'idempotency-key'].includes(k)),
      ) as Record<string, string>;
      fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body })
        .then(async (r) =>
          res
            .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
            .end(await r.text()),
        )
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
