import { EventEmitter } from 'node:events';

/**
 * In-process notice that node outcomes were just recorded. WaitForTasks listens so a long-poll
 * answers the moment its tasks finish when the worker runs in the same process (the default
 * `serve`); across processes it falls back to re-reading the store on a short timer.
 */
const events = new EventEmitter();
events.setMaxListeners(0);

export function emitProgress(): void {
  events.emit('progress');
}

/** Resolves on the next progress notice or after `ms`, whichever comes first. */
export function nextProgress(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      events.off('progress', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    events.once('progress', done);
  });
}

/** Call `listener` on every progress notice (the webhook notifier looks for finished tasks); returns the unsubscribe. */
export function onProgress(listener: () => void): () => void {
  events.on('progress', listener);
  return () => events.off('progress', listener);
}
