/**
 * The trip's typed search attributes: what the Temporal Web UI's query box and `client list`
 * filter on (`TripStatus = 'COMPENSATED'`). Pure: imported by the workflow bundle, the client
 * and the dev-server launchers. A real cluster registers them once with
 * `temporal operator search-attribute create --name TripStatus --type Keyword` (same for the others).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The trip's status (docs/architecture.md's statuses: PENDING … CONFIRMED | COMPENSATED | CANCELLED | NEEDS_ATTENTION). */
export const TripStatusKey = defineSearchAttributeKey('TripStatus', SearchAttributeType.KEYWORD);
/** The customer the trip is for. */
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
/** The step running now, or the one that failed (`flight`, `hotel`, `car`, `payment`). */
export const TripStepKey = defineSearchAttributeKey('TripStep', SearchAttributeType.KEYWORD);

export const TRIP_SEARCH_ATTRIBUTES = [TripStatusKey, CustomerIdKey, TripStepKey] as const;

/** `--search-attribute Name=Keyword …` for `temporal server start-dev`, which registers them at start. */
export const DEV_SERVER_SEARCH_ATTRIBUTE_ARGS: string[] = TRIP_SEARCH_ATTRIBUTES.flatMap((key) => [
  '--search-attribute',
  `${key.name}=Keyword`,
]);

/** Runs that carry a trip's status: its booking and, for a trip cancelled after confirmation, the cancellation. */
export const TRIP_WORKFLOW_TYPES = "(WorkflowType = 'bookTrip' OR WorkflowType = 'cancelConfirmedTrip')";

/** A visibility query listing the trips in one status, e.g. `TripStatus = 'COMPENSATED'`. */
export const tripStatusQuery = (status?: string): string =>
  `${TRIP_WORKFLOW_TYPES}${status === undefined ? '' : ` AND ${TripStatusKey.name} = '${status.replace(/'/g, '')}'`}`;
