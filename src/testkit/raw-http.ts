/**
 * HTTP/1.1 over a bare socket, for requests no well-behaved client would send (a method Node does
 * not know, a path with spaces or raw bytes, a Content-Length that lies, duplicate headers): what
 * the fuzzer and the bad-input tests need to reach Node's parser and Fastify's router as they are.
 */
import net from 'node:net';

export interface RawRequest {
  method: string;
  /** Written as is on the request line (not encoded). */
  path: string;
  /** In order, duplicates kept; Host and Connection: close are added unless present. */
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  /** Adds Content-Length for the body unless false or a Content-Length/Transfer-Encoding is given. */
  contentLength?: boolean;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the first final response in `data` (1xx interim ones skipped); undefined when its head is incomplete. */
export function parseResponse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  if (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 16).toString('latin1')))
    return parseResponse(data.subarray(end + 4));
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = data.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = decodeChunked(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, body: body.toString('utf8') };
}

/** Sends one request on a fresh connection and resolves with the response once the server closes it. */
export function sendRaw(port: number, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const headers = [...(req.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  if (!has('host')) headers.unshift(['Host', `127.0.0.1:${port}`]);
  if (!has('connection')) headers.push(['Connection', 'close']);
  if (req.contentLength !== false && body.length > 0 && !has('content-length') && !has('transfer-encoding')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response in ${timeoutMs} ms to ${req.method} ${req.path.slice(0, 80)}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const response = parseResponse(Buffer.concat(chunks));
      if (response) resolve(response);
      else reject(new Error(`connection closed without a response to ${req.method} ${req.path.slice(0, 80)}`));
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may answer (413, 400) and close before it has read everything we sent.
    socket.on('error', () => socket.destroy());
    socket.on('close', finish);
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}
