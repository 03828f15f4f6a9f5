/**
 * How the fuzzer breaks a well-formed request: its body (value and bytes), headers, path and
 * query, method, size and encoding. Each case applies one to three of these, drawn by the
 * seeded source, so a run is reproducible from its seed.
 * Left out on purpose: CONNECT and Upgrade (Node hands the socket to listeners we do not have
 * and closes it without an HTTP answer) and a Content-Length larger than the body (the server
 * rightly waits for the rest).
 */
import type { Rng } from '../random';
import type { Draft } from './templates';

export interface Mutation {
  name: string;
  /** `value` mutations run before the body is serialized, `text` ones after. */
  stage: 'value' | 'text';
  apply(rng: Rng, draft: Draft): void;
}

const nest = (depth: number, object: boolean) =>
  object ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;

const WEIRD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -0,
  3.5,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  ' ',
  'x'.repeat(5000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '😀'.repeat(50),
  '%00',
  "'; drop table trips; --",
  '../../etc/passwd',
  [],
  [1, 2, 3],
  {},
  { nested: { deeper: [1, { x: null }] } },
];

const setHeader = (draft: Draft, name: string, value: string) => {
  draft.headers = draft.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  draft.headers.push([name, value]);
};
const dropHeader = (draft: Draft, name: string) => {
  draft.headers = draft.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
};

/**
 * A mutation named after `header` (in lower case) that sets it to a value drawn from `values`, or
 * drops it when the draw is null; `then` runs afterwards, so its draws come after the pick.
 */
function headerMutation(
  header: string,
  values: ReadonlyArray<string | null>,
  then?: (rng: Rng, draft: Draft) => void,
): Mutation {
  return {
    name: header.toLowerCase(),
    stage: 'text',
    apply: (rng, d) => {
      const value = rng.pick(values);
      if (value === null) dropHeader(d, header);
      else setHeader(d, header, value);
      then?.(rng, d);
    },
  };
}

/** A mutation named after `field` that replaces the request's method or query with a value drawn from `values`. */
function replaceMutation(field: 'method' | 'query', values: readonly string[]): Mutation {
  return {
    name: field,
    stage: 'text',
    apply: (rng, d) => {
      d[field] = rng.pick(values);
    },
  };
}

/** A field path of an object value, chosen at random (one or two levels down). */
function randomField(rng: Rng, value: unknown): [Record<string, unknown>, string] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 0) return undefined;
  const k = rng.pick(keys);
  const child = obj[k];
  if (child && typeof child === 'object' && !Array.isArray(child) && rng.chance(0.5)) {
    return randomField(rng, child) ?? [obj, k];
  }
  return [obj, k];
}

export const MUTATIONS: Mutation[] = [
  // The body's value.
  {
    name: 'wrong-type',
    stage: 'value',
    apply: (rng, d) => {
      const f = randomField(rng, d.value);
      if (f) f[0][f[1]] = rng.pick(WEIRD_VALUES);
    },
  },
  {
    name: 'drop-field',
    stage: 'value',
    apply: (rng, d) => {
      const f = randomField(rng, d.value);
      if (f) delete f[0][f[1]];
    },
  },
  {
    name: 'extra-field',
    stage: 'value',
    apply: (rng, d) => {
      if (d.value && typeof d.value === 'object')
        (d.value as Record<string, unknown>)[rng.string(6)] = rng.pick(WEIRD_VALUES);
    },
  },
  {
    name: 'top-level',
    stage: 'value',
    apply: (rng, d) => {
      d.value = rng.pick([null, 0, 'trip', [], [d.value], true, {}]);
    },
  },
  {
    name: 'wide-object',
    stage: 'value',
    apply: (rng, d) => {
      const wide: Record<string, number> = {};
      for (let i = 0; i < rng.int(100, 4000); i++) wide[`k${i}`] = i;
      d.value = rng.chance(0.5) ? wide : { ...(d.value as object), wide };
    },
  },
  // The body's bytes.
  {
    name: 'deep-nesting',
    stage: 'text',
    apply: (rng, d) => {
      const deep = nest(rng.pick([33, 64, 500, 5000, 20000]), rng.chance(0.5));
      const text = String(d.body ?? '{}');
      d.body = text.startsWith('{') && text.length > 2 ? `{"deep":${deep},${text.slice(1)}` : deep;
    },
  },
  {
    name: 'truncate',
    stage: 'text',
    apply: (rng, d) => {
      const text = String(d.body ?? '{"a":1}');
      d.body = text.slice(0, rng.int(0, Math.max(0, text.length - 1)));
    },
  },
  {
    name: 'garbage',
    stage: 'text',
    apply: (rng, d) => {
      const junk = rng.pick(['}', ',', 'NaN', '// c', '\ufeff', '\u0000', 'undefined', "'a'", '{"a":1}{"b":2}']);
      d.body = rng.chance(0.5) ? `${junk}${String(d.body ?? '')}` : `${String(d.body ?? '')}${junk}`;
    },
  },
  {
    name: 'invalid-utf8',
    stage: 'text',
    apply: (rng, d) => {
      const text = Buffer.from(String(d.body ?? '{"a":"b"}'));
      const at = rng.int(0, text.length);
      const bad = Buffer.from(rng.pick([[0xc0, 0xaf], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x00]]));
      d.body = Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]);
    },
  },
  {
    name: 'duplicate-keys',
    stage: 'text',
    apply: (_rng, d) => {
      const text = String(d.body ?? '{}');
      if (text.startsWith('{') && text.length > 2) d.body = `{"tripId":"dup","tripId":1,${text.slice(1)}`;
    },
  },
  {
    name: 'prototype-keys',
    stage: 'text',
    apply: (rng, d) => {
      const text = String(d.body ?? '{}');
      const evil = rng.pick(['"__proto__":{"admin":true}', '"constructor":{"prototype":{"admin":true}}']);
      d.body = text.startsWith('{') && text.length > 2 ? `{${evil},${text.slice(1)}` : `{${evil}}`;
    },
  },
  {
    name: 'empty-body',
    stage: 'text',
    apply: (_rng, d) => {
      d.body = '';
    },
  },
  {
    name: 'oversized-body',
    stage: 'text',
    apply: (rng, d) => {
      d.body = JSON.stringify({ pad: 'x'.repeat(rng.pick([64 * 1024, 300 * 1024, 2 * 1024 * 1024])) });
    },
  },
  {
    name: 'body-on-get',
    stage: 'text',
    apply: (_rng, d) => {
      d.body = '{"tripId":"x"}';
      setHeader(d, 'Content-Type', 'application/json');
    },
  },
  // Headers.
  headerMutation('Content-Type', [
    null,
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'application/jsonx',
    'application/problem+json',
    'application/json, text/plain',
    ';;;',
    'APPLICATION/JSON',
    `application/json; ${'p=1;'.repeat(500)}`,
  ]),
  headerMutation(
    'Idempotency-Key',
    [null, '', '""', '"unterminated', 'k'.repeat(256), 'a key', 'a,b', 'é-key', '"a\\"b"', 'x'.repeat(255)],
    (rng, d) => {
      if (rng.chance(0.2)) d.headers.push(['Idempotency-Key', 'second-key']);
    },
  ),
  headerMutation('Authorization', [
    null,
    '',
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'Bearer wrong-token',
    'Bearer a b',
    `Bearer ${'t'.repeat(8000)}`,
    'bearer  spaced ',
  ]),
  {
    name: 'prefer',
    stage: 'text',
    apply: (rng, d) => {
      setHeader(
        d,
        'Prefer',
        rng.pick(['wait=abc', 'wait=99999999999', 'wait=-1', 'wait=', 'respond-async, wait=1', 'wait="2"']),
      );
    },
  },
  {
    name: 'content-length',
    stage: 'text',
    apply: (rng, d) => {
      const len = Buffer.byteLength(d.body ?? '');
      const v = rng.pick(['abc', '-1', '1e3', String(Math.max(0, len - 1)), `${len}, ${len}`, '0x10', ' ']);
      setHeader(d, 'Content-Length', v);
    },
  },
  {
    name: 'transfer-encoding',
    stage: 'text',
    apply: (rng, d) => {
      const body = Buffer.from(d.body ?? '');
      const te = rng.pick(['chunked', 'gzip', 'chunked, identity', 'identity']);
      setHeader(d, 'Transfer-Encoding', te);
      if (te === 'chunked') {
        d.body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
        if (rng.chance(0.5)) dropHeader(d, 'Content-Length');
      }
    },
  },
  {
    name: 'content-encoding',
    stage: 'text',
    apply: (rng, d) => setHeader(d, 'Content-Encoding', rng.pick(['gzip', 'br', 'deflate', 'x-unknown'])),
  },
  {
    name: 'header-junk',
    stage: 'text',
    apply: (rng, d) => {
      const junk = rng.pick<[string, string]>([
        ['X-Big', 'y'.repeat(rng.pick([4000, 20000]))],
        ['Bad Header', 'v'],
        ['X-Ctl', 'a\u0001b'],
        ['X-Latin', 'caf\u00e9'],
        ['Host', ''],
        ['Expect', '100-continue'],
        ['Accept', 'text/html'],
      ]);
      d.headers.push(junk);
      if (rng.chance(0.2)) for (let i = 0; i < 200; i++) d.headers.push([`X-Many-${i}`, 'v']);
    },
  },
  // Path and query.
  {
    name: 'path-param',
    stage: 'text',
    apply: (rng, d) => {
      const bad = rng.pick([
        'abc%00def',
        '%00',
        'a%0Ab',
        '%7F',
        '%C0%AF',
        '%',
        '%%',
        '%zz',
        '%E0%A4%A',
        'x'.repeat(150),
        '..',
        '%2F',
        'é',
        '%F0%9F%98%80',
        ' ',
        'trip-%00',
      ]);
      const parts = d.path.split('/');
      const at = parts.length > 2 ? rng.int(1, parts.length - 1) : parts.length - 1;
      parts[at] = bad;
      d.path = parts.join('/');
    },
  },
  {
    name: 'path-shape',
    stage: 'text',
    apply: (rng, d) => {
      d.path = rng.pick([
        `${d.path}/`,
        `/${d.path}`,
        `${d.path}/extra`,
        `${d.path}/..`,
        d.path.toUpperCase(),
        `/nowhere${d.path}`,
        `${d.path}#frag`,
        `http://evil.example${d.path}`,
        '*',
        `${d.path}/${'seg/'.repeat(rng.pick([10, 3000]))}`,
        '/',
      ]);
    },
  },
  replaceMutation('query', [
    'tripId=a&tripId=b',
    'tripId[]=x',
    'tripId=%00',
    'tripId=%C0%AF',
    'tripId=',
    'status=%C0',
    'status=CONFIRMED&status=CANCELLED',
    'status=bogus',
    '%%%',
    Array.from({ length: 2000 }, (_, i) => `p${i}=${i}`).join('&'),
    `tripId=${'t'.repeat(300)}`,
  ]),
  // Method.
  replaceMutation('method', [
    'GET',
    'PUT',
    'PATCH',
    'DELETE',
    'OPTIONS',
    'HEAD',
    'TRACE',
    'PROPFIND',
    'post',
    'FOO',
    'G E T',
    'POST ',
  ]),
  // The webhook signature.
  {
    name: 'signature',
    stage: 'text',
    apply: (rng, d) => {
      d.sign = false;
      setHeader(
        d,
        'X-Outbox-Signature',
        rng.pick(['', 't=1,v1=abc', 't=abc,v1=', 'v1=00', `t=${Date.now()},v1=${'0'.repeat(64)}`]),
      );
    },
  },
];
