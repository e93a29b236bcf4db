import { readFileSync } from 'node:fs';

/**
 * `npx refreshd serve` (and `npm start`) run refreshd as npm → `sh -c` → node. npm forwards
 * SIGTERM/SIGINT to the shell, which dies without passing them on, and a SIGKILLed npm forwards
 * nothing: either way the server went on holding its port with nobody to stop it. So when npm
 * started this process, it exits once its parent or grandparent (npm itself) is gone.
 *
 * Only under npm: a process started by systemd, a container runtime or `nohup … &` is meant to
 * outlive whoever started it.
 */
export function exitWithParent(onGone: () => void, env = process.env, everyMs = 500): void {
  if (!env.npm_command) return;
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === undefined || alive(grandparent))) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
}

/** A process's parent, from /proc (Linux); undefined elsewhere. */
function parentOf(pid: number): number | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
