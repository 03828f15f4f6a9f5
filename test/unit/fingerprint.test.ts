/** The Idempotency-Key fingerprint: RFC 8785 canonical JSON, and unchanged for keys stored before it. */
import { canonicalJson, fingerprintOf } from '../../src/idempotency/fingerprint';

it('canonicalises the example of RFC 8785 section 3.2.3 exactly', () => {
  const input = JSON.parse(
    '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
      '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
  );
  expect(canonicalJson(input)).toBe(
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
});

it('sorts keys by UTF-16 code units at every level, so key order never changes the fingerprint', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null }, é: 1, Z: 0, '😀': 1, '\u20ac': 1 })).toBe(
    '{"Z":0,"a":{"c":null,"d":[2,{"x":0,"y":1}]},"b":1,"é":1,"€":1,"😀":1}',
  );
  expect(fingerprintOf('POST', '/trips', { a: 1, b: [1, 2] })).toBe(
    fingerprintOf('post', '/trips', { b: [1, 2], a: 1 }),
  );
  expect(fingerprintOf('POST', '/trips', { a: 1 })).not.toBe(fingerprintOf('POST', '/trips', { a: '1' }));
  expect(fingerprintOf('POST', '/trips', { a: [1, 2] })).not.toBe(fingerprintOf('POST', '/trips', { a: [2, 1] }));
  expect(fingerprintOf('POST', '/trips', {})).not.toBe(fingerprintOf('POST', '/trips/x/cancel', {}));
});

it('gives the fingerprints the hand-written canonical JSON gave, so keys stored before still match', () => {
  // Computed with the previous implementation (sorted keys + JSON.stringify) before the switch.
  const body = {
    customerId: 'cust-42',
    é: 1,
    Z: [3, { b: null, a: 1e21, c: 0.1 }],
    'a\u2028"': 'x\ny',
    '😀': true,
    éa: -0,
    flight: { seats: 1, date: '2027-03-01' },
  };
  expect(fingerprintOf('post', '/trips', body)).toBe(
    '4d9a83c316b3676090d7382449e2588689c67a2d60ade9380afb40e7de957c7b',
  );
  expect(fingerprintOf('POST', '/trips', null)).toBe(
    '23ca3f37574d7b8f91337e32dffa8dfff7aff90f05c4005a71eef2829f3a9675',
  );
  // No body at all fingerprints as null, as before.
  expect(fingerprintOf('POST', '/trips', undefined)).toBe(fingerprintOf('POST', '/trips', null));
});
