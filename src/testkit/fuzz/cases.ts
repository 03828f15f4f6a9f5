/** One fuzz case: a template with one to three mutations, ready for the socket. */
import { signWebhook } from '../../outbox/webhook-signature';
import type { RawRequest } from '../raw-http';
import { MUTATIONS } from './mutations';
import type { Rng } from '../random';
import { TEMPLATES, type Draft, type FuzzContext, type SurfaceName } from './templates';

export interface FuzzCase {
  surface: SurfaceName;
  route: string;
  mutations: string[];
  request: RawRequest;
}

/** Framing mutations go last: a body edited after it was chunked would leave the server waiting. */
const FRAMING = new Set(['transfer-encoding', 'content-length']);

export function generateCase(rng: Rng, ctx: FuzzContext, webhookSecret: string): FuzzCase {
  const template = rng.pick(TEMPLATES)(rng, ctx);
  const draft: Draft = { ...template, sign: template.sign ?? false };
  const chosen = Array.from({ length: rng.int(1, 3) }, () => rng.pick(MUTATIONS));
  const ordered = [
    ...chosen.filter((m) => m.stage === 'value'),
    ...chosen.filter((m) => m.stage === 'text' && !FRAMING.has(m.name)),
    ...chosen.filter((m) => FRAMING.has(m.name)),
  ];
  let serialized = false;
  for (const m of ordered) {
    if (m.stage === 'text' && !serialized) {
      if (draft.value !== undefined) draft.body = JSON.stringify(draft.value);
      serialized = true;
    }
    m.apply(rng, draft);
  }
  if (!serialized && draft.value !== undefined) draft.body = JSON.stringify(draft.value);
  if (draft.sign) {
    draft.headers.push([
      'X-Outbox-Signature',
      signWebhook(webhookSecret, Buffer.from(draft.body ?? '').toString('utf8')),
    ]);
  }
  return {
    surface: draft.surface,
    route: draft.route,
    mutations: ordered.map((m) => m.name),
    request: {
      method: draft.method,
      path: draft.query ? `${draft.path}?${draft.query}` : draft.path,
      headers: draft.headers,
      body: draft.body,
    },
  };
}
