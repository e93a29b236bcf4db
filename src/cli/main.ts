import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerClientCommands } from './client-commands.js';
import { registerAccountCommands } from './account-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerDomainCommands } from './domain-commands.js';
import { registerEdgeCommands } from './edge-commands.js';
import { registerGroupCommands } from './group-commands.js';
import { registerKeyCommands } from './key-commands.js';
import { registerNodeCommands } from './node-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerUserCommands } from './user-commands.js';
import { registerWebhookCommands } from './webhook-commands.js';
import { registerConfigCommands } from './config-commands.js';
import { registerServerCommands } from './server-commands.js';

const program = new Command('refreshd')
  .description('CDN refresh and preload control plane, wire-compatible with Alibaba Cloud CDN/VOD')
  .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version, '-V, --version')
  .showHelpAfterError();

registerServerCommands(program);
registerConfigCommands(program);
registerClientCommands(program);
registerAccountCommands(program);
registerUserCommands(program);
registerKeyCommands(program);
registerPolicyCommands(program);
registerDomainCommands(program);
registerNodeCommands(program);
registerEdgeCommands(program);
registerGroupCommands(program);
registerAuditCommands(program);
registerWebhookCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`refreshd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
