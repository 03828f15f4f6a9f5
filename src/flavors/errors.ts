/** Errors of the flavour dispatch: a flavour this deployment cannot run, an id another flavour owns. */

export class FlavorUnavailableError extends Error {
  readonly code = 'FLAVOR_UNAVAILABLE';
  constructor(
    readonly flavor: string,
    readonly why: string,
  ) {
    super(why);
    this.name = 'FlavorUnavailableError';
  }
}

export class TripIdTakenError extends Error {
  readonly code = 'TRIP_ID_TAKEN';
  constructor(
    readonly tripId: string,
    readonly flavor: string,
  ) {
    super(`trip ${tripId} already exists as a ${flavor} trip`);
    this.name = 'TripIdTakenError';
  }
}
