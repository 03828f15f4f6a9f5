/**
 * Payload encryption for everything Temporal stores (workflow and activity inputs, results,
 * queries, updates, memos): AES-256-GCM over the whole encoded payload, the key's id in the
 * metadata so that any key of the configured set can decrypt and the first one encrypts.
 * Payloads that are not encrypted pass through, so runs recorded before the codec still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PayloadKey } from '../config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** A payload that names a key this process does not have, or does not decrypt with the one it names. */
export class PayloadDecryptionError extends Error {
  constructor(
    readonly keyId: string | undefined,
    readonly reason: 'unknown key id' | 'authentication failed' | 'malformed',
    knownKeyIds: string[],
  ) {
    super(
      reason === 'unknown key id'
        ? `payload encrypted with key id "${keyId}", which is not in PAYLOAD_KEYS (known: ${knownKeyIds.join(', ') || 'none'})`
        : reason === 'authentication failed'
          ? `payload does not decrypt with key id "${keyId}": wrong key material for that id, or the payload was altered`
          : `encrypted payload is malformed (key id "${keyId ?? '?'}")`,
    );
    this.name = 'PayloadDecryptionError';
  }
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;

  /** `keys[0]` encrypts; every key decrypts. */
  constructor(keys: PayloadKey[]) {
    const [first] = keys;
    if (!first) throw new Error('AesGcmPayloadCodec needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`payload key "${k.id}" is not 32 bytes`);
    this.current = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      // The key id is authenticated too: relabelling a payload with another id fails to decrypt.
      cipher.setAAD(utf8(this.current.id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8(this.current.id),
          [CIPHER_METADATA]: utf8(CIPHER),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
      const key = keyId === undefined ? undefined : this.byId.get(keyId);
      if (!key) throw new PayloadDecryptionError(keyId, 'unknown key id', [...this.byId.keys()]);
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(keyId, 'malformed', []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(keyId as string));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(keyId, 'authentication failed', []);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** A fresh key in PAYLOAD_KEYS form (`id:base64`), for the embedded stack and for rotation. */
export function generatePayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
