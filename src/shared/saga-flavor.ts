/**
 * The saga flavours a trip can be booked with (docs/architecture.md). Only `orchestrated`
 * (`bookTrip` on Temporal) runs today; the others are names reserved for what comes next, so
 * that the client and the API refuse them with a clear message instead of an unknown option.
 */
export const SAGA_FLAVORS = ['orchestrated', 'choreographed', '2pc'] as const;
export type SagaFlavor = (typeof SAGA_FLAVORS)[number];

/** The flavours this build can run. */
export const AVAILABLE_FLAVORS: readonly SagaFlavor[] = ['orchestrated'];

export const DEFAULT_FLAVOR: SagaFlavor = 'orchestrated';
