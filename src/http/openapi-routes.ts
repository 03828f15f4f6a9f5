/**
 * `GET /openapi.json` (the app's OpenAPI 3.1 document) and `GET /docs` (a self-contained HTML page
 * listing its operations, parameters, bodies and answers: no script, no asset from elsewhere).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildOpenApiDocument, type ApiDescription, type OperationDoc } from './openapi';

type Json = Record<string, unknown>;

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
const code = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;
const schemaOf = (media: unknown) =>
  Object.entries((media ?? {}) as Record<string, { schema?: unknown }>)
    .map(([type, m]) => `<details><summary>${escape(type)}</summary>${code(m.schema)}</details>`)
    .join('');

function renderOperation(path: string, method: string, op: Json): string {
  const params = (op.parameters ?? []) as Array<Json & { schema: unknown }>;
  const responses = Object.entries(op.responses as Record<string, Json>);
  const secured = Array.isArray(op.security) && op.security.length > 0;
  return `<section id="${escape(String(op.operationId))}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code>${secured ? ' <span class="lock">bearer</span>' : ''}</h3>
<p>${escape(String(op.summary))}</p>${op.description ? `<p>${escape(String(op.description))}</p>` : ''}
${
  params.length > 0
    ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${params
        .map(
          (p) =>
            `<tr><td><code>${escape(String(p.name))}</code>${p.description ? `<br><small>${escape(String(p.description))}</small>` : ''}</td><td>${escape(String(p.in))}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${escape(JSON.stringify(p.schema))}</code></td></tr>`,
        )
        .join('')}</table>`
    : ''
}
${op.requestBody ? `<h4>Request body</h4>${schemaOf((op.requestBody as Json).content)}` : ''}
<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responses
    .map(
      ([status, r]) =>
        `<tr><td>${escape(status)}</td><td>${escape(String(r.description))}</td><td>${schemaOf(r.content)}</td></tr>`,
    )
    .join('')}</table>
</section>`;
}

/** The docs page of an OpenAPI document. */
export function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description: string };
  const ops = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(info.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ddd;padding:.5em 0}table{border-collapse:collapse;width:100%;margin:.5em 0}
td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:6px;overflow:auto;font-size:12px}
.m{display:inline-block;min-width:3.5em;padding:1px 6px;border-radius:3px;color:#fff;font-size:13px}.get{background:#2b7a3d}.post{background:#2457a6}
.lock{font-size:12px;border:1px solid #999;border-radius:3px;padding:0 4px}
</style></head><body>
<h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
<p>${escape(info.description)}</p>
<p>The machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are
<code>application/problem+json</code> with a stable <code>code</code>.</p>
<ul>${ops.map(({ path, method, op }) => `<li><a href="#${escape(String(op.operationId))}">${method.toUpperCase()} ${escape(path)}</a>: ${escape(String(op.summary))}</li>`).join('')}</ul>
${ops.map(({ path, method, op }) => renderOperation(path, method, op)).join('\n')}
</body></html>
`;
}

const selfDescription: OperationDoc[] = [
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI 3.1 document',
    tag: 'meta',
    responses: { 200: { description: 'the document', schema: z.record(z.string(), z.unknown()) } },
    problems: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'getDocs',
    summary: 'This document as an HTML page',
    tag: 'meta',
    responses: { 200: { description: 'the page', contentType: 'text/html' } },
    problems: [],
  },
];

/** The longest path parameter the app's router takes (longer: 414 URI_TOO_LONG); 100 is Fastify's default. */
export const maxParamLengthOf = (app: FastifyInstance): number => app.initialConfig.maxParamLength ?? 100;

/** Registers `/openapi.json` and `/docs` on `app`; the document is built once, here, so a bad description fails at start. */
export function registerOpenApiRoutes(app: FastifyInstance, api: ApiDescription): Json {
  const doc = buildOpenApiDocument({ ...api, operations: [...api.operations, ...selfDescription] });
  const page = renderDocsPage(doc);
  app.get('/openapi.json', async () => doc);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  return doc;
}
