/**
 * Temporal's remote codec protocol on the trip API: `POST /codec/encode` and `/codec/decode` take
 * and return `{ "payloads": [{ "metadata": { k: base64 }, "data": base64 }] }`. The Web UI (and
 * `temporal workflow show --codec-endpoint`) call it to show decrypted inputs and results to
 * whoever may use it: a bearer token of API_TOKENS, or, when allowed, the Web UI's own origin.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpProblem } from '../http/problem';
import { PayloadDecryptionError } from '../temporal/payload-codec';
import { principalFor } from './auth';
import { unauthorized } from './problems';

export interface CodecEndpointOptions {
  codec: PayloadCodec;
  tokens: Map<string, string>;
  /** The Web UI's origin (`http://127.0.0.1:8233`): the one origin CORS lets read the answers. */
  uiOrigin: string;
  /** Answer the Web UI's origin without a token: only for a Web UI that is itself open to the same people. */
  allowUiOrigin: boolean;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** The body of `/codec/encode` and `/codec/decode`, and of their answers. */
export const codecBodySchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })).max(10_000),
});
type JsonPayload = z.infer<typeof codecBodySchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** 422 when a payload cannot be decrypted (its key unknown, or the bytes broken). */
export const undecryptable = (err: PayloadDecryptionError) =>
  new HttpProblem({
    status: 422,
    code: err.reason === 'unknown key id' ? 'PAYLOAD_KEY_UNKNOWN' : 'PAYLOAD_UNDECRYPTABLE',
    title: 'A payload cannot be decrypted',
    detail: err.message,
    extra: { keyId: err.keyId ?? null },
  });

/** Registers the two codec routes (and their CORS preflight) in their own scope. */
export function registerCodecRoutes(app: FastifyInstance, options: CodecEndpointOptions): void {
  void app.register(async (scope) => {
    const fromUi = (request: FastifyRequest) => request.headers.origin === options.uiOrigin;
    scope.addHook('onRequest', async (request, reply) => {
      if (fromUi(request)) {
        void reply.header('access-control-allow-origin', options.uiOrigin).header('vary', 'Origin');
      }
      // A preflight carries no credentials; the request that follows it is checked.
      if (request.method === 'OPTIONS') return;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      if (match?.[1] && principalFor(options.tokens, match[1])) return;
      if (options.allowUiOrigin && fromUi(request)) return;
      throw unauthorized(match ? 'unknown token' : 'missing Authorization: Bearer <token>');
    });
    scope.options('/codec/:operation', async (request, reply) => {
      if (!fromUi(request)) return reply.code(204).send();
      return reply
        .code(204)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'content-type, x-namespace, authorization')
        .header('access-control-max-age', '600')
        .send();
    });
    for (const operation of ['encode', 'decode'] as const) {
      scope.post(`/codec/${operation}`, { bodyLimit: 8 * 1024 * 1024 }, async (request) => {
        const parsed = codecBodySchema.safeParse(request.body);
        if (!parsed.success) {
          throw new HttpProblem({
            status: 400,
            code: 'VALIDATION_FAILED',
            title: 'The request is not valid',
            detail: parsed.error.issues[0]?.message,
          });
        }
        const payloads = parsed.data.payloads.map(fromJson);
        try {
          const out = await (operation === 'encode' ? options.codec.encode(payloads) : options.codec.decode(payloads));
          return { payloads: out.map(toJson) };
        } catch (err) {
          if (err instanceof PayloadDecryptionError) throw undecryptable(err);
          throw err;
        }
      });
    }
  });
}
