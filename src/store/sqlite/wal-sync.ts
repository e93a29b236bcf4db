import { open, type FileHandle } from 'node:fs/promises';

/**
 * Group commit for SQLite in WAL mode, off the event loop. A submit commits at
 * synchronous=NORMAL (its WAL frames are written to the OS, not yet flushed), then waits for
 * `sync()`, an fdatasync of the WAL file on libuv's thread pool, before the API answers. The
 * answer still means "on disk", as with synchronous=FULL, but:
 *
 * - the event loop is free while the disk flushes (a FULL commit blocked it ~0.5 ms here, more
 *   when the engine's unsynced frames had to go out with it), so the worker dispatches and the
 *   executor starts purging the new task during the flush;
 * - concurrent submits share one flush.
 *
 * fsync flushes the file (the inode), whichever descriptor wrote it, so our own handle on
 * `<db>-wal` covers SQLite's writes. Frames a checkpoint has already copied into the database
 * were synced by that checkpoint (SQLite syncs the database after each checkpoint at NORMAL).
 * Purging before the flush is safe: a crash in between loses a task nobody was told about,
 * and a purge nobody asked for only costs a cache miss. One difference from FULL: if the flush
 * itself fails (an I/O error), the task is already committed and visible while its caller gets
 * InternalError; a client that retries then has two tasks for the same paths (nothing lost, one
 * refresh too many).
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  /** The flush running now, and the one queued behind it for writes made while it ran. */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly walPath: string) {}

  /** Resolves once every WAL frame written before this call is on disk. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    // The running flush may have started before our frames were written: join the next one.
    this.queued ??= this.running.then(
      () => this.next(),
      () => this.next(),
    );
    return this.queued;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close().catch(() => {});
  }

  private next(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const run = (async () => {
      // 'r+' opens without creating or truncating: the WAL exists once the first commit wrote it.
      this.handle ??= open(this.walPath, 'r+');
      try {
        await (await this.handle).datasync();
      } catch (err) {
        this.handle = undefined;
        throw err;
      }
    })();
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }
}
