/** The Temporal payload codec: AES-256-GCM, the key id in the metadata, rotation by a key list. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { parsePayloadKeys, type PayloadKey } from '../../src/config';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  generatePayloadKey,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../src/temporal/payload-codec';

const key = (id: string): PayloadKey => ({ id, key: randomBytes(32) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const request = { customerId: 'cust-42', payment: { token: 'tok_visa', amountCents: 123400, currency: 'USD' } };
const plain = (): Payload => defaultPayloadConverter.toPayload(request);

it('encrypts a payload so that neither its data nor its metadata show the token, and decrypts it back', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const [sealed] = await codec.encode([plain()]);
  expect(text(sealed?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(sealed?.metadata?.[KEY_ID_METADATA])).toBe('k1');
  expect(Buffer.from(sealed?.data ?? []).includes('tok_visa')).toBe(false);
  expect(JSON.stringify(sealed)).not.toContain('tok_visa');
  const [opened] = await codec.decode([sealed as Payload]);
  expect(defaultPayloadConverter.fromPayload(opened as Payload)).toEqual(request);
});

it('uses a fresh nonce for each payload (the same value never encrypts to the same bytes)', async () => {
  const codec = new AesGcmPayloadCodec([key('k1')]);
  const [a, b] = await codec.encode([plain(), plain()]);
  expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
});

it('rotates: the first key encrypts, an older key still decrypts what it encrypted', async () => {
  const old = key('2026-01');
  const next = key('2026-07');
  const before = await new AesGcmPayloadCodec([old]).encode([plain()]);
  const rotated = new AesGcmPayloadCodec([next, old]);
  const after = await rotated.encode([plain()]);
  expect(text(after[0]?.metadata?.[KEY_ID_METADATA])).toBe('2026-07');
  const decoded = await rotated.decode([...before, ...after]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([request, request]);
});

it('fails clearly when a payload names a key id it does not have', async () => {
  const sealed = await new AesGcmPayloadCodec([key('retired')]).encode([plain()]);
  const decode = new AesGcmPayloadCodec([key('current')]).decode(sealed);
  await expect(decode).rejects.toBeInstanceOf(PayloadDecryptionError);
  await expect(decode).rejects.toThrow(
    'payload encrypted with key id "retired", which is not in PAYLOAD_KEYS (known: current)',
  );
});

it('fails clearly on the right id with the wrong key material, and on a relabelled key id', async () => {
  const sealed = await new AesGcmPayloadCodec([key('k1')]).encode([plain()]);
  await expect(new AesGcmPayloadCodec([key('k1')]).decode(sealed)).rejects.toThrow(
    'payload does not decrypt with key id "k1": wrong key material',
  );
  const k1 = key('k1');
  const k2 = { id: 'k2', key: k1.key };
  const [mine] = await new AesGcmPayloadCodec([k1]).encode([plain()]);
  const relabelled = { ...mine, metadata: { ...mine?.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
  await expect(new AesGcmPayloadCodec([k2]).decode([relabelled])).rejects.toThrow(/does not decrypt with key id "k2"/);
});

it('passes unencrypted payloads through (histories recorded before the codec still read)', async () => {
  const payload = plain();
  expect(await new AesGcmPayloadCodec([key('k1')]).decode([payload])).toEqual([payload]);
});

describe('PAYLOAD_KEYS', () => {
  it('reads id:base64 pairs in order, the first being the encryption key', () => {
    const spec = `${generatePayloadKey('new')},${generatePayloadKey('old')}`;
    const { keys, problems } = parsePayloadKeys(spec);
    expect(problems).toEqual([]);
    expect(keys.map((k) => [k.id, k.key.length])).toEqual([
      ['new', 32],
      ['old', 32],
    ]);
  });

  it('refuses keys that are not 32 bytes, ids without a key and repeated ids', () => {
    expect(parsePayloadKeys(`k1:${randomBytes(16).toString('base64')}`).problems).toHaveLength(1);
    expect(parsePayloadKeys('k1').problems).toHaveLength(1);
    const k = generatePayloadKey('same');
    expect(parsePayloadKeys(`${k},${k}`).problems).toEqual(['PAYLOAD_KEYS: key id "same" is listed twice']);
  });
});
