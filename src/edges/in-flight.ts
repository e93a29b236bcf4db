/**
 * What the requests of one EdgeHttpClient share while in flight: one timer for their deadlines
 * and one listener per abort signal, instead of a timer and a listener per request. A timer and
 * an EventTarget listener set and cleared for every purge and every probe were ~4 % of the
 * executor thread's CPU in the fan-out bench (docs/benchmarks.md, fan-out).
 */

/** One request in flight. `ended` once it finished, any way; `expire` and `abort` end it. */
export interface Flight {
  due: number;
  ended: boolean;
  expire(): void;
  abort(reason: unknown): void;
}

/** Requests with the same time limit are due in the order they started: a queue and one timer per limit. */
interface Queue {
  flights: Flight[];
  head: number;
  timer: NodeJS.Timeout | undefined;
}

export class InFlight {
  private readonly byLimit = new Map<number, Queue>();
  private readonly bySignal = new WeakMap<AbortSignal, Set<Flight>>();

  /** Track a request that is due `ms` from now and listens on `signal` (if any). */
  start(flight: Flight, ms: number, signal?: AbortSignal): void {
    let q = this.byLimit.get(ms);
    if (!q) this.byLimit.set(ms, (q = { flights: [], head: 0, timer: undefined }));
    q.flights.push(flight);
    q.timer ??= setTimeout(() => this.expire(q), ms);
    if (!signal) return;
    let listening = this.bySignal.get(signal);
    if (!listening) {
      const set = (listening = new Set());
      this.bySignal.set(signal, set);
      signal.addEventListener('abort', () => {
        for (const f of [...set]) f.abort(signal.reason);
      }, { once: true });
    }
    listening.add(flight);
  }

  /** The request ended. Most end in the order they started: when none is left, neither is the timer. */
  end(flight: Flight, ms: number, signal?: AbortSignal): void {
    flight.ended = true;
    if (signal) this.bySignal.get(signal)?.delete(flight);
    const q = this.byLimit.get(ms);
    if (!q) return;
    while (q.head < q.flights.length && q.flights[q.head].ended) q.head++;
    if (q.head === q.flights.length) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    compact(q);
  }

  private expire(q: Queue): void {
    q.timer = undefined;
    const now = performance.now();
    while (q.head < q.flights.length && (q.flights[q.head].ended || q.flights[q.head].due <= now)) {
      const f = q.flights[q.head++];
      if (!f.ended) f.expire();
    }
    compact(q);
    // A request started by an expiry may have armed the timer already: one timer, for the head.
    clearTimeout(q.timer);
    q.timer = q.head < q.flights.length ? setTimeout(() => this.expire(q), Math.max(0, q.flights[q.head].due - now)) : undefined;
  }
}

/** Drop the part of the queue already passed (shift() is O(n)): all of it, or now and then. */
function compact(q: Queue): void {
  if (q.head === q.flights.length) {
    q.flights = [];
    q.head = 0;
  } else if (q.head > 1024 && q.head * 2 > q.flights.length) {
    q.flights = q.flights.slice(q.head);
    q.head = 0;
  }
}
