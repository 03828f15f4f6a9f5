/** The trip API's settings: API_TOKENS pairs and the published Idempotency-Key policy. */
import { ConfigError, loadConfig, parseApiTokens } from '../../src/config';
import { principalFor } from '../../src/api/auth';
import { preferredWaitSeconds } from '../../src/api/prefer';

describe('API configuration', () => {
  it('reads token:principal pairs and keeps keys 24 hours by default', () => {
    const config = loadConfig({ API_TOKENS: 'tok-alice-123:alice, tok-bob-4567:bob' });
    expect([...config.api.tokens]).toEqual([
      ['tok-alice-123', 'alice'],
      ['tok-bob-4567', 'bob'],
    ]);
    expect(config.api.idempotencyRetentionMs).toBe(24 * 3_600_000);
    expect(config.api.idempotencyLockTimeoutMs).toBe(60_000);
    expect(config.services.api.port).toBe(3000);
  });

  it.each([
    ['no-principal'],
    ['short:alice'],
    ['tok-alice-123:'],
    ['tok-alice-123:al ice'],
    ['tok-alice-123:a,tok-alice-123:b'],
  ])('refuses API_TOKENS=%s naming the variable', (spec) => {
    expect(() => loadConfig({ API_TOKENS: spec })).toThrow(ConfigError);
    expect(() => loadConfig({ API_TOKENS: spec })).toThrow(/API_TOKENS/);
  });

  it('divides each pair at its last colon, so a token may contain one and empty entries are skipped', () => {
    const { tokens, problems } = parseApiTokens(' tok:en-1234:alice ,, tok-bob-4567:bob ');
    expect(problems).toEqual([]);
    expect([...tokens]).toEqual([
      ['tok:en-1234', 'alice'],
      ['tok-bob-4567', 'bob'],
    ]);
  });

  it('takes the retention from IDEMPOTENCY_RETENTION_HOURS and refuses a non-positive one', () => {
    expect(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '48' }).api.idempotencyRetentionMs).toBe(48 * 3_600_000);
    expect(() => loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '0' })).toThrow(/IDEMPOTENCY_RETENTION_HOURS/);
  });

  it('finds the principal of a token and nothing for an unknown one', () => {
    const { tokens } = parseApiTokens('tok-alice-123:alice');
    expect(principalFor(tokens, 'tok-alice-123')).toBe('alice');
    expect(principalFor(tokens, 'tok-alice-124')).toBeUndefined();
  });

  it('parses Prefer: wait=N, capped, and ignores other preferences', () => {
    expect(preferredWaitSeconds('respond-async, wait=5', 30)).toBe(5);
    expect(preferredWaitSeconds('wait=500', 30)).toBe(30);
    expect(preferredWaitSeconds('return=minimal', 30)).toBe(0);
    expect(preferredWaitSeconds(undefined, 30)).toBe(0);
  });
});
