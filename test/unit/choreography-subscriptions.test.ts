/** The choreography's declared subscriptions: no event cycle, nothing consumed that nobody emits, a fold that any order ends alike. */
import { CHOREOGRAPHY_EVENTS, STEP_EVENTS } from '../../src/choreography/events';
import { eventGraph, findEventCycle, unproducedEvents } from '../../src/choreography/event-graph';
import { START_EVENT, SUBSCRIPTIONS, type Subscription } from '../../src/choreography/subscriptions';
import { foldTripEvent } from '../../src/choreography/trip-fold';
import { initialView } from '../../src/shared/trip';
import { sampleTrip } from '../../src/testkit/sample-trip';

describe('declared subscriptions', () => {
  it('have no event cycle', () => {
    expect(findEventCycle(SUBSCRIPTIONS)).toBeUndefined();
  });

  it('would show a cycle if one participant answered a later event with an earlier one', () => {
    const cyclic: Record<string, readonly Subscription[]> = {
      ...SUBSCRIPTIONS,
      flight: [...SUBSCRIPTIONS.flight, { on: 'CarReleased', action: 'reserve', emits: ['FlightReserved'] }],
    };
    expect(findEventCycle(cyclic)).toEqual([
      'FlightReserved',
      'HotelReserved',
      'CarReserved',
      'PaymentFailed',
      'CarReleased',
      'FlightReserved',
    ]);
  });

  it('consume only events that the start or some participant emits', () => {
    expect(unproducedEvents(SUBSCRIPTIONS, START_EVENT)).toEqual([]);
    expect(unproducedEvents({ hotel: [{ on: 'CarFailed', action: 'release', emits: [] }] }, START_EVENT)).toEqual([
      'CarFailed',
    ]);
  });

  it('give every step event a consumer, and every failure a way back to the flight release', () => {
    const consumed = new Set(Object.values(SUBSCRIPTIONS).flatMap((subs) => subs.map((s) => s.on)));
    for (const events of Object.values(STEP_EVENTS)) {
      for (const e of [events.done, events.failed, events.undone].filter(Boolean)) expect(consumed).toContain(e);
    }
    // From each failure, following the graph reaches the end of the compensation chain.
    const graph = eventGraph(SUBSCRIPTIONS);
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      from === to || [...(graph.get(from) ?? [])].some((n) => !seen.has(n) && (seen.add(n), reaches(n, to, seen)));
    for (const failure of ['HotelFailed', 'CarFailed', 'PaymentFailed']) {
      expect({ failure, reachesFlightReleased: reaches(failure, 'FlightReleased') }).toEqual({
        failure,
        reachesFlightReleased: true,
      });
    }
    expect(reaches('PaymentCaptured', 'TripConfirmed')).toBe(true);
    expect(reaches('FlightReserved', 'TripCompensated')).toBe(true);
  });

  it('name only known events', () => {
    for (const subs of Object.values(SUBSCRIPTIONS)) {
      for (const s of subs) for (const e of [s.on, ...s.emits]) expect(CHOREOGRAPHY_EVENTS).toContain(e);
    }
  });
});

describe('the trip projection fold', () => {
  const payload = { tripId: 'trip-x', request: sampleTrip() };
  const failure = { ...payload, error: { type: 'SoldOutError', message: 'car refused 409 SOLD_OUT' } };
  const carFails: Array<[string, typeof payload]> = [
    ['TripRequested', payload],
    ['FlightReserved', payload],
    ['HotelReserved', payload],
    ['CarFailed', failure],
    ['HotelReleased', failure],
    ['FlightReleased', failure],
  ];
  const fold = (events: Array<[string, typeof payload]>) =>
    events.reduce((view, [type, p]) => foldTripEvent(view, type, p), initialView('trip-x'));

  it('ends a car failure COMPENSATED with the reason and every earlier step compensated', () => {
    const view = fold(carFails);
    expect(view.status).toBe('COMPENSATED');
    expect(view.reason).toEqual({ step: 'car', ...failure.error });
    expect(Object.fromEntries(Object.entries(view.steps).map(([k, s]) => [k, s.status]))).toEqual({
      flight: 'COMPENSATED',
      hotel: 'COMPENSATED',
      car: 'FAILED',
      payment: 'PENDING',
    });
    expect(view.steps.flight.idempotencyKey).toBe('trip-x:flight');
  });

  it('ends the same whatever order redeliveries bring the events in', () => {
    const reversed = fold([...carFails].reverse());
    expect(reversed).toEqual(fold(carFails));
    const twice = fold([...carFails, ...carFails]);
    expect(twice).toEqual(fold(carFails));
  });

  it('confirms on the capture', () => {
    const view = fold([
      ['TripRequested', payload],
      ['FlightReserved', payload],
      ['HotelReserved', payload],
      ['CarReserved', payload],
      ['PaymentCaptured', payload],
    ]);
    expect(view.status).toBe('CONFIRMED');
    expect(Object.values(view.steps).map((s) => s.status)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
  });
});
