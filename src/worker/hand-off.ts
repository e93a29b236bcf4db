import type { ClaimedAttempt, LeaseRequest, SubmitOutcome } from '../domain/records.js';
import type { SubmitHandOff } from '../domain/submit.js';

/** A worker of this process, as the hand-off sees it. */
export interface LocalTaker {
  owner: string;
  leaseMs: number;
  /** How many attempts it can start now. */
  room(): number;
  /** Attempts leased to it by a committed submit. If it throws, they wait for their lease to run out. */
  take(claimed: ClaimedAttempt[]): void;
  /** New items wait for dispatch: look for work. */
  wake(): void;
}

/**
 * The hand-off between the API's submits and the workers of the same process. A submit asks the
 * store to lease the new items that fit in a worker's room (SubmitBatch.lease); once the store
 * has committed, the hand-off gives the worker what was leased to it, and wakes the workers when
 * items are left for their own dispatch. The store never calls a worker.
 *
 * A worker's room is set aside per submit until the attempts are handed over, so that submits
 * running at the same time (PostgreSQL's are concurrent) do not lease the same room twice.
 */
export class HandOff implements SubmitHandOff {
  private readonly takers = new Map<LocalTaker, number>();

  attach(taker: LocalTaker): () => void {
    this.takers.set(taker, 0);
    return () => this.takers.delete(taker);
  }

  async submit(write: (lease?: LeaseRequest) => Promise<SubmitOutcome>): Promise<SubmitOutcome> {
    const reserved = this.reserve();
    let outcome: SubmitOutcome;
    try {
      outcome = await write(reserved && { owner: reserved.taker.owner, leaseMs: reserved.taker.leaseMs, room: reserved.room });
      if (outcome.ok && outcome.leased.length > 0) {
        try {
          reserved!.taker.take(outcome.leased);
        } catch {
          // Not running after all: the attempts stay leased until the lease runs out, then any worker takes them.
        }
      }
    } finally {
      reserved?.release();
    }
    if (!outcome.ok) return outcome;
    if (outcome.waiting > 0) for (const t of this.takers.keys()) t.wake();
    await outcome.durable();
    return outcome;
  }

  /** The room of the worker with the most, set aside until released; none when no worker has room. */
  private reserve(): { taker: LocalTaker; room: number; release(): void } | undefined {
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
