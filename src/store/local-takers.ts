import type { LocalTaker } from './port.js';

/** Room of a local worker set aside for one submit (LocalTakers.reserve). */
export interface Reservation {
  taker: LocalTaker;
  room: number;
  /** Give the room back: once what the submit leased has been handed over, or it failed. */
  release(): void;
}

/** The workers of this process that take new items at submit (TaskStore.attachTaker), for either store. */
export class LocalTakers {
  private readonly takers = new Map<LocalTaker, number>();

  attach(taker: LocalTaker): () => void {
    this.takers.set(taker, 0);
    return () => this.takers.delete(taker);
  }

  /**
   * The room of the worker with the most, set aside for one submit until released, so that
   * submits running at the same time (PostgreSQL's are asynchronous) do not lease the same room
   * twice over; none when no worker has room.
   */
  reserve(): Reservation | undefined {
    let best: LocalTaker | undefined;
    let most = 0;
    for (const [t, reserved] of this.takers) {
      const room = t.room() - reserved;
      if (room > most) (best = t), (most = room);
    }
    if (!best) return undefined;
    const taker = best;
    this.takers.set(taker, (this.takers.get(taker) ?? 0) + most);
    let released = false;
    return {
      taker,
      room: most,
      release: () => {
        if (released || !this.takers.has(taker)) return;
        released = true;
        this.takers.set(taker, this.takers.get(taker)! - most);
      },
    };
  }
}
