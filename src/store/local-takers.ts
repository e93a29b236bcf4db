import type { LocalTaker } from './port.js';

/** The workers of this process that take new items at submit (TaskStore.attachTaker), for either store. */
export class LocalTakers {
  private readonly takers = new Set<LocalTaker>();

  attach(taker: LocalTaker): () => void {
    this.takers.add(taker);
    return () => this.takers.delete(taker);
  }

  /** The one with the most room, if any has room (there is usually one worker per process). */
  roomiest(): LocalTaker | undefined {
    let best: LocalTaker | undefined;
    let most = 0;
    for (const t of this.takers) {
      const room = t.room();
      if (room > most) (best = t), (most = room);
    }
    return best;
  }
}
