import { Worker } from 'node:worker_threads';

/**
 * Match a caller's Regex against a few paths, off the calling thread and with a deadline.
 *
 * The expression is the caller's: one with nested quantifiers (`(a+)+b`) backtracks for ever on
 * a path that almost matches. Run on the API's event loop, or the executor's, it would stop every
 * other request there, and a wall-clock limit inside the loop (node:vm's timeout) refused
 * ordinary expressions whenever the machine was busy. So matching runs in a thread of its own,
 * one request at a time: past the deadline the thread is terminated (that request answers null)
 * and the next request starts a new one. At worst a hostile expression costs one core for
 * MATCH_MS and delays other regex checks by as much; nothing else waits for it.
 */
export const MATCH_MS = 250;

/** The thread: `^(?:source)` with the `u` flag (the Regex dialect, regex-dialect.ts) against each path. */
const THREAD = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ source, paths }) => {
  let out = null;
  try {
    const re = new RegExp('^(?:' + source + ')', 'u');
    out = paths.map((p) => re.test(p));
  } catch {}
  parentPort.postMessage(out);
});
parentPort.postMessage('ready');
`;

interface Request {
  source: string;
  paths: string[];
  done(out: boolean[] | null): void;
}

let thread: Worker | undefined;
let ready: Promise<void> | undefined;
const queue: Request[] = [];
let busy = false;

/**
 * Which of `paths` the expression matches where the caches anchor it (from the path's start,
 * query included), or null when matching did not finish within `ms` or the expression does not
 * compile.
 */
export function matchRegex(source: string, paths: string[], ms = MATCH_MS): Promise<boolean[] | null> {
  return new Promise((resolve) => {
    queue.push({ source, paths, done: resolve });
    void next(ms);
  });
}

async function next(ms: number): Promise<void> {
  if (busy) return;
  const request = queue.shift();
  if (!request) return;
  busy = true;
  try {
    request.done(await run(request, ms));
  } finally {
    busy = false;
    void next(ms);
  }
}

async function run(request: Request, ms: number): Promise<boolean[] | null> {
  if (!thread) start();
  const worker = thread!;
  try {
    await ready;
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // Still matching: it may never stop. Drop the thread; the next request starts another.
      worker.off('message', answer);
      if (thread === worker) thread = undefined;
      void worker.terminate();
      resolve(null);
    }, ms);
    const answer = (out: boolean[] | null) => {
      clearTimeout(timer);
      resolve(out);
    };
    worker.once('message', answer);
    worker.postMessage({ source: request.source, paths: request.paths });
  });
}

function start(): void {
  const worker = new Worker(THREAD, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  // The process's own handles keep it alive, not this thread.
  worker.unref();
  thread = worker;
  ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  ready.catch(() => {});
  worker.on('error', () => {
    if (thread === worker) thread = undefined;
  });
  worker.on('exit', () => {
    if (thread === worker) thread = undefined;
  });
}
