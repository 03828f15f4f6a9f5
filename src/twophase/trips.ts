/**
 * The two-phase flavour as the client script and the trip API see it: start a trip and read its
 * view through the coordinator process (`npm run coordinator`), with errors that say what to set up.
 */
import type { TwoPhaseConfig } from '../config';
import type { TripRequest, TripView } from '../shared/trip';
import { TwoPhaseUnavailableError } from './availability';
import { PREPARED_TRANSACTIONS_HELP, TWO_PHASE_PROBLEMS } from './protocol';

/** The coordinator did not answer at all. */
export class TwoPhaseCoordinatorUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: string,
  ) {
    super(
      `no two-phase-commit coordinator answers at ${url} (${cause}): start it with \`npm run coordinator\` ` +
        `(or set TWOPHASE_URL); ${PREPARED_TRANSACTIONS_HELP}`,
    );
    this.name = 'TwoPhaseCoordinatorUnreachableError';
  }
}

type Endpoint = Pick<TwoPhaseConfig, 'url'>;

async function call(config: Endpoint, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${config.url}${path}`, { ...init, signal: init.signal ?? AbortSignal.timeout(40_000) });
  } catch (err) {
    throw new TwoPhaseCoordinatorUnreachableError(config.url, (err as Error).message);
  }
}

async function failure(res: Response): Promise<Error> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; title?: string; detail?: string };
  if (body.code === TWO_PHASE_PROBLEMS.unavailable) return new TwoPhaseUnavailableError(body.title ?? 'unavailable');
  return new Error(`two-phase coordinator: HTTP ${res.status} ${body.code ?? ''} ${body.detail ?? body.title ?? ''}`);
}

/** Starts `tripId` (`trip-<id>`) as a two-phase trip, or returns the one started before under that id. */
export async function startTwoPhaseTrip(config: Endpoint, tripId: string, request: TripRequest): Promise<TripView> {
  const res = await call(config, '/trips', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tripId, request }),
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as TripView;
}

/** The trip's view, waiting up to `waitMs` for it to settle; undefined if the coordinator never saw it. */
export async function readTwoPhaseTrip(
  config: Endpoint,
  tripId: string,
  options: { waitMs?: number } = {},
): Promise<TripView | undefined> {
  const res = await call(config, `/trips/${encodeURIComponent(tripId)}?waitMs=${options.waitMs ?? 0}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw await failure(res);
  return (await res.json()) as TripView;
}
