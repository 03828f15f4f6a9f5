/** The opaque `cursor` of `GET /trips`: where the previous page ended, base64url JSON. */
import type { TripCursor } from '../trips/trip-records';

export function encodeCursor(cursor: TripCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.tripId])).toString('base64url');
}

/** The cursor, or undefined when the text is not one this API made. */
export function decodeCursor(text: string): TripCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [createdAt, tripId] = value as unknown[];
    if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || typeof tripId !== 'string')
      return undefined;
    return { createdAt, tripId };
  } catch {
    return undefined;
  }
}
