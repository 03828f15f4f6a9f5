/** Checks over declared subscriptions: the event graph (consumed → emitted) and its cycles. Pure. */
import type { Participant, Subscription } from './subscriptions';

/** Edges `event → events it may cause`, over every participant. */
export function eventGraph(subscriptions: Record<string, readonly Subscription[]>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const subs of Object.values(subscriptions)) {
    for (const s of subs) {
      const next = graph.get(s.on) ?? new Set<string>();
      for (const e of s.emits) next.add(e);
      graph.set(s.on, next);
    }
  }
  return graph;
}

/** One cycle of the event graph as a path (`[A, B, A]`), or undefined when there is none. */
export function findEventCycle(subscriptions: Record<string, readonly Subscription[]>): string[] | undefined {
  const graph = eventGraph(subscriptions);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (event: string): string[] | undefined => {
    if (state.get(event) === 'done') return undefined;
    if (state.get(event) === 'open') return [...path.slice(path.indexOf(event)), event];
    state.set(event, 'open');
    path.push(event);
    for (const next of graph.get(event) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(event, 'done');
    return undefined;
  };
  for (const event of graph.keys()) {
    const cycle = visit(event);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Events some participant consumes that no participant emits (and that are not the start). */
export function unproducedEvents(
  subscriptions: Record<Participant, readonly Subscription[]> | Record<string, readonly Subscription[]>,
  start: string,
): string[] {
  const emitted = new Set<string>([start]);
  for (const subs of Object.values(subscriptions)) for (const s of subs) for (const e of s.emits) emitted.add(e);
  const consumed = Object.values(subscriptions).flatMap((subs) => subs.map((s) => s.on));
  return [...new Set(consumed.filter((e) => !emitted.has(e)))];
}
