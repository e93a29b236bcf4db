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

/**
 * Tasks just canceled, after the store closed their attempts: by CancelRefreshTasks in this
 * process, or announced by the store from another (StoreCapabilities.listenForCancel). Workers
 * drop those of their attempts that have not started yet.
 */
export function emitCanceled(taskIds: string[]): void {
  events.emit('canceled', taskIds);
}

export function onCanceled(listener: (taskIds: string[]) => void): () => void {
  events.on('canceled', listener);
  return () => events.off('canceled', listener);
}
