import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../test/edges/harness/process.js';
import { signV1, type Credentials } from './load.js';

/**
 * `refreshd serve` as a child process for the benches that drive a whole server (fanout.ts,
 * scale.ts), and a client that signs each call as the SDKs do. Killed when the bench exits.
 */
export interface ServeProcess {
  server: ChildProcess;
  /** One signed call; any answer but 200 throws with its body. */
  call: (method: 'GET' | 'POST', action: string, params: Record<string, string>) => Promise<Record<string, any>>;
  api: Agent;
}

export async function startServe(o: {
  /** The checkout whose bin/refreshd.js runs. */
  root: string;
  /** `serve` arguments after the listen address (--data, --config, --store …). */
  args: string[];
  /** Node's own flags (--cpu-prof …). */
  nodeArgs?: string[];
  cred: Credentials;
  agent: Agent.Options;
}): Promise<ServeProcess> {
  const port = await freePort();
  const server = spawn(process.execPath, [...(o.nodeArgs ?? []), join(o.root, 'bin/refreshd.js'), 'serve', '--no-rate-limit', '--listen', `127.0.0.1:${port}`, ...o.args], {
    env: { ...process.env, REFRESHD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => server.exitCode === null && server.kill('SIGKILL'));
  await new Promise<void>((res, rej) => {
    server.stdout!.on('data', (c) => String(c).includes('listening') && res());
    server.once('exit', (code) => rej(new Error(`refreshd exited (${code}) before listening`)));
  });
  const api = new Agent(o.agent);
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: 'GET' | 'POST', action: string, params: Record<string, string>) => {
    const signed = signV1(method, action, params, o.cred);
    const res = method === 'GET'
      ? await request(`${base}/?${signed}`, { dispatcher: api })
      : await request(`${base}/`, { dispatcher: api, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: signed });
    const json = (await res.body.json()) as Record<string, any>;
    if (res.statusCode !== 200) throw new Error(`${action}: ${JSON.stringify(json)}`);
    return json;
  };
  return { server, call, api };
}
