/** The one data converter of every Temporal client and worker: payload encryption when keys are configured. */
import type { DataConverter } from '@temporalio/common';
import type { CodecConfig } from '../config';
import { AesGcmPayloadCodec } from './payload-codec';

/** The payload codec for these keys, or undefined when none are configured (payloads stored as they are). */
export function payloadCodecFor(codec: Pick<CodecConfig, 'keys'>): AesGcmPayloadCodec | undefined {
  return codec.keys.length > 0 ? new AesGcmPayloadCodec(codec.keys) : undefined;
}

/** Pass as `dataConverter` to `new Client(…)`, `Worker.create(…)` and test environments. */
export function dataConverterFor(config: { codec: Pick<CodecConfig, 'keys'> }): DataConverter {
  const codec = payloadCodecFor(config.codec);
  return codec ? { payloadCodecs: [codec] } : {};
}
