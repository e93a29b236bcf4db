/**
 * The store could not take the call now — another process holds the write lock past the busy
 * timeout — but may later. The API answers ServiceUnavailable; nothing was written (a cancel
 * keeps what it did and may simply be sent again).
 */
export class StoreBusy extends Error {
  constructor(options?: { cause?: unknown }) {
    super('store busy', options);
    this.name = 'StoreBusy';
  }
}
