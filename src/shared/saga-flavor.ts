/**
 * The saga flavours a trip can be booked with (docs/architecture.md): `orchestrated` (`bookTrip`
 * on Temporal), `choreographed` (the services react to each other's events, docs/choreography.md)
 * and `2pc` (two-phase commit through the coordinator of docs/two-phase-commit.md).
 */
export const SAGA_FLAVORS = ['orchestrated', 'choreographed', '2pc'] as const;
export type SagaFlavor = (typeof SAGA_FLAVORS)[number];

/** Why this build cannot run a flavour at all (a deployment may lack more: see src/flavors/). */
export const NOT_IN_THIS_BUILD: Partial<Record<SagaFlavor, string>> = {};

/** The flavours this build can run. */
export const AVAILABLE_FLAVORS: readonly SagaFlavor[] = SAGA_FLAVORS.filter((f) => !NOT_IN_THIS_BUILD[f]);

export const DEFAULT_FLAVOR: SagaFlavor = 'orchestrated';
