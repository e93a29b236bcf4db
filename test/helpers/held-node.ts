import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A plain HTTP "cache node" (driven by the Varnish driver with the group's verify set to `ack`)
 * that answers each request only when the test says so, as refreshd's VCL does (200, X-Varnish).
 * With the node's answers in the test's hands, what the node has received, answered and is still
 * doing at any moment is known exactly, instead of guessed from a per-request delay.
 */
export interface HeldNode {
  address: string;
  /** Paths of the PURGE requests received, in order. */
  received: string[];
  /** Requests received and not yet answered. */
  readonly waiting: number;
  /** Answer the oldest request still waiting; false if none waits. */
  release(): boolean;
  close(): Promise<void>;
}

export async function startHeldNode(): Promise<HeldNode> {
  const received: string[] = [];
  const held: (() => void)[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'PURGE') received.push(req.url!);
    held.push(() => res.writeHead(200, { 'content-length': '0', 'x-varnish': '1' }).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get waiting() {
      return held.length;
    },
    release: () => {
      const answer = held.shift();
      answer?.();
      return answer !== undefined;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
