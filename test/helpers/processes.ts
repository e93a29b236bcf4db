import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The CLI as users run it. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'refreshd.js');

/**
 * Real `refreshd` processes for tests that span several of them (API and worker processes on
 * one PostgreSQL, a restart on one data directory). Each file keeps one `Processes`, and kills
 * whatever is still running in its `after`.
 */
export class Processes {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Start `refreshd ARGS…`; resolves once its output matches `ready` (20 s at most). */
  start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
    const child = spawn(process.execPath, [BIN, ...args], { env: this.env });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`not ready: ${out}`)), 20_000);
      const onData = (c: Buffer) => {
        out += c;
        const match = ready.exec(out);
        if (match) (clearTimeout(timer), resolve({ child, match }));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c) => (out += c));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`exited (${code}) before ready: ${out}`))));
    });
  }

  /** Run a short command (admin verbs) to its end; it must succeed. */
  run(args: string[]): string {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: this.env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  }

  /** SIGTERM, then wait for the exit. */
  stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
