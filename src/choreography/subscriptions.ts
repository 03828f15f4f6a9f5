/**
 * Who reacts to what, as data: each participant's subscriptions (the event it consumes, what it
 * does, the events it may emit). The participants run from this table and refuse to emit an
 * event it does not declare, so the no-cycle test over it covers the running system.
 */
import type { StepName } from '../shared/trip';
import type { ChoreographyEvent } from './events';

export type Participant = StepName | 'projection';

export interface Subscription {
  on: ChoreographyEvent;
  /** `reserve`: the step's forward call; `release`: its compensation; `project`: fold into the view. */
  action: 'reserve' | 'release' | 'project';
  emits: readonly ChoreographyEvent[];
}

/** The event that starts a trip (written by the trip's starter through the API's outbox). */
export const START_EVENT: ChoreographyEvent = 'TripRequested';

export const SUBSCRIPTIONS: Record<Participant, readonly Subscription[]> = {
  flight: [
    { on: 'TripRequested', action: 'reserve', emits: ['FlightReserved', 'FlightFailed'] },
    { on: 'HotelFailed', action: 'release', emits: ['FlightReleased'] },
    { on: 'HotelReleased', action: 'release', emits: ['FlightReleased'] },
  ],
  hotel: [
    { on: 'FlightReserved', action: 'reserve', emits: ['HotelReserved', 'HotelFailed'] },
    { on: 'CarFailed', action: 'release', emits: ['HotelReleased'] },
    { on: 'CarReleased', action: 'release', emits: ['HotelReleased'] },
  ],
  car: [
    { on: 'HotelReserved', action: 'reserve', emits: ['CarReserved', 'CarFailed'] },
    { on: 'PaymentFailed', action: 'release', emits: ['CarReleased'] },
  ],
  payment: [{ on: 'CarReserved', action: 'reserve', emits: ['PaymentCaptured', 'PaymentFailed'] }],
  // The trip view: every event moves it; the three that end a trip also announce the outcome.
  projection: [
    { on: 'TripRequested', action: 'project', emits: [] },
    { on: 'FlightReserved', action: 'project', emits: [] },
    { on: 'FlightFailed', action: 'project', emits: ['TripCompensated'] },
    { on: 'HotelReserved', action: 'project', emits: [] },
    { on: 'HotelFailed', action: 'project', emits: [] },
    { on: 'CarReserved', action: 'project', emits: [] },
    { on: 'CarFailed', action: 'project', emits: [] },
    { on: 'PaymentCaptured', action: 'project', emits: ['TripConfirmed'] },
    { on: 'PaymentFailed', action: 'project', emits: [] },
    { on: 'CarReleased', action: 'project', emits: [] },
    { on: 'HotelReleased', action: 'project', emits: [] },
    { on: 'FlightReleased', action: 'project', emits: ['TripCompensated'] },
  ],
};

/** The subscription of `participant` to `event`, if it has one. */
export function subscriptionOf(participant: Participant, event: string): Subscription | undefined {
  return SUBSCRIPTIONS[participant].find((s) => s.on === event);
}
