import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
 * crosses ~4 MB of WAL, on the committing connection: copying the pages into the database file
 * and syncing it held the event loop (which the API and the worker share) for 18–21 ms, in the
 * middle of a submit, an outcome batch or a cancel step. The store's connections turn it off
 * (`wal_autocheckpoint = 0`) and this thread, with a connection of its own, runs a PASSIVE
 * checkpoint every `everyMs`: it copies what no reader still needs and never waits for a reader
 * or a writer, so nothing on the event loop waits for it either. The WAL is reused from its start
 * by the next write once a checkpoint has copied all of it.
 *
 * Started at the first tick, so a short-lived admin command never starts the thread (closing the
 * last connection checkpoints anyway). The timer and the thread are unref'd: they never keep a
 * process alive.
 */
export class Checkpointer {
  private thread: Worker | undefined;
  private running = false;
  private readonly timer: NodeJS.Timeout;
  /** Checkpoints run and the last result, for tests and health. */
  readonly stats = { runs: 0, lastError: '' };

  constructor(private readonly file: string, everyMs = 1_000) {
    this.timer = setInterval(() => this.tick(), everyMs).unref();
  }

  private tick(): void {
    if (this.running) return;
    this.running = true;
    this.thread ??= this.start();
    this.thread.postMessage('checkpoint');
  }

  private start(): Worker {
    const thread = new Worker(THREAD, { eval: true, workerData: { file: this.file, module: createRequire(import.meta.url).resolve('better-sqlite3') } });
    thread.unref();
    thread.on('message', (m: { error?: string }) => {
      this.running = false;
      this.stats.runs++;
      this.stats.lastError = m.error ?? '';
    });
    // A thread that died (its connection could not open) is started again at the next tick.
    thread.on('error', (err) => {
      this.stats.lastError = String(err);
      this.running = false;
      this.thread = undefined;
    });
    return thread;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Let the thread close its connection; terminate it if it does not exit soon.
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.ref();
    thread.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 2_000)));
    if ((await Promise.race([exited, timeout])) === 'late') await thread.terminate();
    clearTimeout(timer);
  }
}

/** The thread: one connection, one pragma per message. busy_timeout 0: PASSIVE never waits anyway. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
parentPort.on('message', (m) => {
  if (m === 'close') {
    if (db) db.close();
    process.exit(0);
  }
  try {
    if (!db) {
      db = new Database(workerData.file);
      db.pragma('busy_timeout = 0');
      db.pragma('wal_autocheckpoint = 0');
    }
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({});
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
`;
