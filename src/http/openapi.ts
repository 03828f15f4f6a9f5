/**
 * OpenAPI 3.1 descriptions of the apps, built from the zod schemas the routes validate with
 * (`z.toJSONSchema`) and from the problem factories they throw: a route lists what it takes and
 * which problems it can answer, this module turns that into paths, parameters and responses.
 */
import { errorCodes } from 'fastify';
import { z } from 'zod';
import { problemFor, invalidPathParameter } from './framework-errors';
import { jsonTooDeep } from './json-body';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from './problem';

type JsonSchema = Record<string, unknown>;

/** True when A and B are the same type (a zod answer schema has not drifted from its TypeScript type). */
export type SameType<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** A request header a route reads. */
export interface HeaderDoc {
  name: string;
  required: boolean;
  description: string;
  schema: z.ZodType;
}

/** One success answer of a route. */
export interface SuccessDoc {
  description: string;
  /** The JSON body; omitted for an answer without one. */
  schema?: z.ZodType;
  /** Another media type than application/json (its body is then a string). */
  contentType?: string;
  headers?: Record<string, string>;
  /** OpenAPI links: operations whose parameters come from this answer (`$response.body#/tripId`). */
  links?: Record<string, { operationId: string; parameters: Record<string, string> }>;
}

/** One operation, as its route registers it. */
export interface OperationDoc {
  method: 'get' | 'post';
  /** OpenAPI path template: `/trips/{tripId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Needs `Authorization: Bearer <token>` (401 UNAUTHORIZED otherwise). */
  bearer?: boolean;
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  headers?: HeaderDoc[];
  /** The JSON body (application/json); its parse and size problems are added. */
  body?: z.ZodType;
  responses: Record<number, SuccessDoc>;
  /** Every problem the route itself can answer (samples from the problem factories). */
  problems: HttpProblem[];
}

export interface ApiDescription {
  title: string;
  version: string;
  description: string;
  operations: OperationDoc[];
  /** Which problems a bearer-protected route adds (the 401). */
  unauthorized?: HttpProblem;
}

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a zod schema; `input` for requests, `output` for answers. */
export function jsonSchemaOf(zodSchema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const schema: JsonSchema = z.toJSONSchema(zodSchema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  delete schema.$schema;
  return schema;
}

const fastifyProblem = (code: keyof typeof errorCodes) =>
  problemFor(new (errorCodes[code] as unknown as new (...args: string[]) => Error)('x', 'x'));

/** What the framework answers for a JSON body it cannot take (src/http/json-body.ts, framework-errors.ts). */
export const bodyProblems = (): HttpProblem[] => [
  fastifyProblem('FST_ERR_CTP_INVALID_JSON_BODY'),
  fastifyProblem('FST_ERR_CTP_INVALID_CONTENT_LENGTH'),
  jsonTooDeep(),
  fastifyProblem('FST_ERR_CTP_BODY_TOO_LARGE'),
  fastifyProblem('FST_ERR_CTP_INVALID_MEDIA_TYPE'),
];

/** What the framework answers for a path parameter it cannot take (a bad escape, too long, not visible ASCII). */
export const pathProblems = (names: string[]): HttpProblem[] => [
  fastifyProblem('FST_ERR_BAD_URL'),
  fastifyProblem('FST_ERR_MAX_PARAM_LENGTH'),
  ...names.map((name) => invalidPathParameter(name)),
];

function parameters(op: OperationDoc): JsonSchema[] {
  const of = (where: 'path' | 'query', shape: z.ZodObject | undefined) =>
    Object.entries(shape?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: where,
      required: where === 'path' || !(schema as z.ZodType).safeParse(undefined).success,
      schema: jsonSchemaOf(schema as z.ZodType, 'input'),
    }));
  return [
    ...of('path', op.pathParams),
    ...of('query', op.query),
    ...(op.headers ?? []).map((h) => ({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: jsonSchemaOf(h.schema, 'input'),
    })),
  ];
}

/** One response per problem status: the codes it can carry as an enum, and the headers they set. */
function problemResponses(problems: HttpProblem[]): Record<string, JsonSchema> {
  const byStatus = new Map<number, Map<string, HttpProblem>>();
  for (const p of problems) byStatus.set(p.status, (byStatus.get(p.status) ?? new Map()).set(p.code, p));
  const responses: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const list = [...codes.values()];
    const headers = [...new Set(list.flatMap((p) => Object.keys(p.headers)))];
    responses[String(status)] = {
      description: list.map((p) => `\`${p.code}\`: ${p.title}`).join('; '),
      ...(headers.length > 0
        ? { headers: Object.fromEntries(headers.map((h) => [h, { schema: { type: 'string' } }])) }
        : {}),
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/Problem' },
              { type: 'object', properties: { status: { const: status }, code: { enum: list.map((p) => p.code) } } },
            ],
          },
        },
      },
    };
  }
  return responses;
}

function operation(op: OperationDoc, unauthorized: HttpProblem | undefined): JsonSchema {
  const problems = [
    ...(op.bearer && unauthorized ? [unauthorized] : []),
    ...(op.pathParams ? pathProblems(Object.keys(op.pathParams.shape)) : []),
    ...(op.body ? bodyProblems() : []),
    ...op.problems,
  ];
  const responses: Record<string, JsonSchema> = problemResponses(problems);
  for (const [status, r] of Object.entries(op.responses)) {
    if (responses[status]) throw new Error(`${op.operationId}: ${status} is both a success and a problem`);
    const media = r.contentType ?? 'application/json';
    const schema = r.schema ? jsonSchemaOf(r.schema, 'output') : { type: 'string' };
    responses[status] = {
      description: r.description,
      ...(r.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
            ),
          }
        : {}),
      ...(r.schema || r.contentType ? { content: { [media]: { schema } } } : {}),
      ...(r.links ? { links: r.links } : {}),
    };
  }
  const params = parameters(op);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    ...(op.bearer ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(op.body, 'input') } } } }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

/** The OpenAPI 3.1 document of an app. */
export function buildOpenApiDocument(api: ApiDescription): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of api.operations) (paths[op.path] ??= {})[op.method] = operation(op, api.unauthorized);
  return {
    openapi: '3.1.0',
    info: { title: api.title, version: api.version, description: api.description },
    paths,
    components: {
      schemas: {
        Problem: {
          type: 'object',
          description: 'An RFC 9457 problem document with a stable `code`; `type` is derived from the code.',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer', minimum: 400, maximum: 599 },
            code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
            detail: { type: 'string' },
          },
        },
      },
      ...(api.operations.some((op) => op.bearer)
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token of API_TOKENS' } } }
        : {}),
    },
  };
}
