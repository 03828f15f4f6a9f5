/** The one check of a trip's workflow id and the keys derived from it, against the services' limits. */
import { tripIdSchema, cancelRequestSchema } from '../../src/http/common-schemas';
import { parseIdempotencyKey } from '../../src/idempotency/key';
import { STEPS, stepKey, undoKey, workflowIdFor } from '../../src/shared/trip';
import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_TRIP_ID_LENGTH,
  problemsWithWorkflowId,
  TripIdError,
  tripWorkflowId,
} from '../../src/shared/trip-ids';
import { tripStartOptions } from '../../src/trips/start-options';
import { sampleTrip } from '../../src/testkit/sample-trip';

const longest = `trip-${'x'.repeat(MAX_TRIP_ID_LENGTH - 'trip-'.length)}`;

it('accepts the longest workflow id whose every derived key the services accept', () => {
  expect(longest).toHaveLength(MAX_TRIP_ID_LENGTH);
  expect(problemsWithWorkflowId(longest)).toEqual([]);
  // What the services check: the trip id in every body, the key of every forward call and undo.
  expect(tripIdSchema.safeParse(longest).success).toBe(true);
  for (const step of STEPS) {
    expect(parseIdempotencyKey(stepKey(longest, step))).toMatchObject({ ok: true });
    expect(parseIdempotencyKey(undoKey(longest, step))).toMatchObject({ ok: true });
    expect(cancelRequestSchema.safeParse({ tripId: longest, idempotencyKey: stepKey(longest, step) }).success).toBe(
      true,
    );
  }
});

it('refuses a workflow id one character past the limit, naming the limit', () => {
  const tooLong = `${longest}x`;
  expect(tripIdSchema.safeParse(tooLong).success).toBe(false);
  expect(problemsWithWorkflowId(tooLong)).toEqual([
    expect.stringMatching(new RegExp(`at most ${MAX_TRIP_ID_LENGTH} characters`)),
  ]);
  expect(() => tripWorkflowId('x'.repeat(MAX_TRIP_ID_LENGTH))).toThrow(TripIdError);
  expect(() => tripWorkflowId('x'.repeat(MAX_TRIP_ID_LENGTH))).toThrow(/is 205 characters; at most 200/);
});

it('refuses characters the services refuse, and an empty id', () => {
  expect(problemsWithWorkflowId('trip-a b')).not.toEqual([]);
  expect(problemsWithWorkflowId('trip-é')).not.toEqual([]);
  expect(() => tripWorkflowId('')).toThrow(TripIdError);
});

it('builds trip-<id> once, leaving an id that already starts with trip- alone', () => {
  expect(tripWorkflowId('abc')).toBe('trip-abc');
  expect(tripWorkflowId('trip-abc')).toBe('trip-abc');
  expect(workflowIdFor('abc')).toBe('trip-abc');
});

it('keeps every derived key within the idempotency key limit', () => {
  expect(undoKey(longest, 'payment').length).toBeLessThanOrEqual(MAX_IDEMPOTENCY_KEY_LENGTH);
});

it('is checked by the one way a run is started, so no start path can skip it', () => {
  expect(() => tripStartOptions(sampleTrip(), `${longest}x`, 'trips')).toThrow(TripIdError);
  expect(tripStartOptions(sampleTrip(), longest, 'trips').workflowId).toBe(longest);
});
