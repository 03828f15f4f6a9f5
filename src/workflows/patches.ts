/**
 * Every patch id the workflows check with `patched()` / `deprecatePatch()`, oldest first: the
 * versioning history of the workflow code (docs/workflow-changes.md). The replay test requires,
 * for each one, recorded histories (test/fixtures/histories) both with and without its marker,
 * and refuses a history carrying a patch that is no longer listed here.
 */

/** bookTrip ran its forward steps (and a confirmed trip's end record) as local activities (step-calls.ts). */
export const LOCAL_STEPS_PATCH = 'forward-steps-as-local-activities';
/** ...and back to regular activities: local steps lost what a killed worker had booked (step-calls.ts). */
export const REGULAR_STEPS_PATCH = 'forward-steps-as-regular-activities-again';
/**
 * ...and local again, made safe: a compensation that may follow a lost workflow task undoes every
 * step, not only those this run saw start (step-calls.ts, book-trip.ts).
 */
export const LOCAL_STEPS_UNDO_ALL_PATCH = 'forward-steps-local-undo-all-in-doubt';

/**
 * Each patch and how the code checks it: `patched` (runs with and without the marker may be in
 * flight) or `deprecated` (`deprecatePatch()`: every run in flight has the marker). A patch whose
 * check is gone from the code is gone from here too.
 */
export const WORKFLOW_PATCHES: Readonly<Record<string, 'patched' | 'deprecated'>> = {
  [LOCAL_STEPS_PATCH]: 'patched',
  [REGULAR_STEPS_PATCH]: 'patched',
  [LOCAL_STEPS_UNDO_ALL_PATCH]: 'patched',
};
