/** The 2PC wire contract: gids name the step's idempotency key and nothing that could break the SQL. */
import { gidFor, parseGid } from '../../src/twophase/protocol';

describe('two-phase transaction ids', () => {
  it('round-trips a trip and step to the forward idempotency key', () => {
    expect(gidFor('trip-abc', 'hotel')).toBe('tripsaga:trip-abc:hotel');
    expect(parseGid('tripsaga:trip-a:b:payment')).toEqual({
      tripId: 'trip-a:b',
      step: 'payment',
      key: 'trip-a:b:payment',
    });
  });

  it.each([
    "tripsaga:trip-x':flight",
    'tripsaga:trip-x:boat',
    'other:trip-x:flight',
    'tripsaga::flight',
    'tripsaga:trip x:car',
  ])('refuses %s', (gid) => expect(parseGid(gid)).toBeUndefined());
});
