/**
 * Temporal never stores the payment token in clear: the worker and the client encrypt every
 * payload (PAYLOAD_KEYS), the history read raw from the server shows no token, the client with
 * the codec reads the trip as usual, and the trip API's codec endpoint decrypts for the Web UI.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import type { Db } from '../../src/db/knex';
import type { TripView } from '../../src/shared/trip';
import { dataConverterFor, payloadCodecFor } from '../../src/temporal/data-converter';
import { ENCRYPTED_ENCODING, generatePayloadKey } from '../../src/temporal/payload-codec';
import { sampleTrip } from '../../src/testkit/sample-trip';
import { auditTrip, invariantViolations, startStack, type Stack } from '../../src/testkit/stack';
import { openApiDatabase } from '../../src/trips/trip-records';
import { readTrip } from '../../src/trips/trip-view';
import { startBookTrip } from '../../src/trips/trip-workflows';
import { parsePayloadKeys } from '../../src/config';

const TOKEN = 'tok_visa';
const BEARER = 'codec-viewer-token-0001';
const UI_ORIGIN = 'http://127.0.0.1:8233';

let stack: Stack;
let apiDb: Db;
let app: FastifyInstance;
let openApp: FastifyInstance;
let tripId: string;
let view: TripView;

const urlOf = (a: FastifyInstance) => `http://127.0.0.1:${(a.server.address() as { port: number }).port}`;

beforeAll(async () => {
  // An older key after the current one: rotation in progress.
  stack = await startStack({ payloadKeys: `${generatePayloadKey('current')},${generatePayloadKey('previous')}` });
  apiDb = await openApiDatabase(stack.config);
  const codec = payloadCodecFor(stack.config.codec);
  if (!codec) throw new Error('the stack has no payload codec');
  const build = (allowUiOrigin: boolean) =>
    buildApp({
      db: apiDb,
      temporalClient: stack.client,
      config: stack.config,
      tokens: new Map([[BEARER, 'ops']]),
      codec: { codec, allowUiOrigin },
    });
  app = build(false);
  openApp = build(true);
  await app.listen({ host: '127.0.0.1', port: 0 });
  await openApp.listen({ host: '127.0.0.1', port: 0 });
  tripId = `trip-encrypted-${randomUUID()}`;
  await startBookTrip(stack.client, stack.config.temporal.taskQueue, tripId, sampleTrip());
  view = await stack.client.workflow.getHandle(tripId).result();
}, 180_000);

afterAll(async () => {
  await app?.close();
  await openApp?.close();
  await apiDb?.destroy();
  await stack?.stop();
}, 60_000);

/** The history as the server stores it: the workflow service directly, no data converter. */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: stack.config.temporal.namespace,
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

const startInput = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0] ?? {};
const toJson = (p: temporal.api.common.v1.IPayload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

async function post(a: FastifyInstance, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${urlOf(a)}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

it('books the trip through the encrypted path, and the client with the codec reads it as usual', async () => {
  expect(view.status).toBe('CONFIRMED');
  const snapshot = await readTrip(stack.client, tripId);
  expect(snapshot.view.status).toBe('CONFIRMED');
  expect(snapshot.view.steps.payment.status).toBe('DONE');
  expect(invariantViolations('CONFIRMED', await auditTrip(stack.config, tripId))).toEqual([]);
});

it('stores no payment token in the history read raw from the server, only encrypted payloads', async () => {
  const events = await rawHistory(tripId);
  const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
  expect(events.length).toBeGreaterThan(10);
  expect(bytes.includes(TOKEN)).toBe(false);
  const input = startInput(events);
  expect(Buffer.from(input.metadata?.encoding ?? []).toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(input.metadata?.['encryption-key-id'] ?? []).toString()).toBe('current');
});

it('keeps the full token out of the trips row the worker recorded', async () => {
  const row = (await apiDb('trips').where({ trip_id: tripId }).first()) as { request: string } | undefined;
  expect(row?.request).toContain('…visa');
  expect(row?.request).not.toContain(TOKEN);
});

it('fails clearly for a client whose keys do not include the one a payload names', async () => {
  const stranger = new Client({
    connection: stack.client.connection,
    namespace: stack.config.temporal.namespace,
    dataConverter: dataConverterFor({ codec: parsePayloadKeys(generatePayloadKey('other')) }),
  });
  await expect(stranger.workflow.getHandle(tripId).result()).rejects.toThrow(
    'payload encrypted with key id "current", which is not in PAYLOAD_KEYS (known: other)',
  );
});

describe('the codec endpoint (Temporal remote codec protocol)', () => {
  const auth = { authorization: `Bearer ${BEARER}` };

  it('decodes what the server stores, for a caller with a token', async () => {
    const res = await post(app, '/codec/decode', { payloads: [toJson(startInput(await rawHistory(tripId)))] }, auth);
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(payloads[0]?.metadata.encoding ?? '', 'base64').toString()).toBe('json/plain');
    const decoded = JSON.parse(Buffer.from(payloads[0]?.data ?? '', 'base64').toString()) as { payment: unknown };
    expect(decoded.payment).toEqual({ token: TOKEN, amountCents: 123400, currency: 'USD' });
  });

  it('round-trips: encode then decode gives back the payload', async () => {
    const payload = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: 'eyJhIjoxfQ==' };
    const encoded = (await (await post(app, '/codec/encode', { payloads: [payload] }, auth)).json()) as {
      payloads: unknown[];
    };
    expect(JSON.stringify(encoded)).not.toContain('eyJhIjoxfQ==');
    const decoded = await (await post(app, '/codec/decode', encoded, auth)).json();
    expect(decoded).toEqual({ payloads: [payload] });
  });

  it('answers a payload under an unknown key id with a clear 422', async () => {
    const sealed = await payloadCodecFor({ keys: parsePayloadKeys(generatePayloadKey('gone')).keys })?.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') },
    ]);
    const res = await post(app, '/codec/decode', { payloads: (sealed ?? []).map(toJson) }, auth);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({
      code: 'PAYLOAD_KEY_UNKNOWN',
      keyId: 'gone',
      detail: 'payload encrypted with key id "gone", which is not in PAYLOAD_KEYS (known: current, previous)',
    });
  });

  it('refuses callers without a valid token, the Web UI origin included unless it is allowed', async () => {
    const body = { payloads: [toJson(startInput(await rawHistory(tripId)))] };
    expect((await post(app, '/codec/decode', body)).status).toBe(401);
    expect((await post(app, '/codec/decode', body, { authorization: 'Bearer not-a-token' })).status).toBe(401);
    const fromUi = await post(app, '/codec/decode', body, { origin: UI_ORIGIN });
    expect(fromUi.status).toBe(401);
    // The browser still gets to read the refusal.
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect((await post(openApp, '/codec/decode', body, { origin: 'http://evil.example' })).status).toBe(401);
    const allowed = await post(openApp, '/codec/decode', body, { origin: UI_ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  });

  it("answers the Web UI's CORS preflight for its origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${urlOf(app)}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const ok = await preflight(UI_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
