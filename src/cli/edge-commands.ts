import type { Command } from 'commander';
import { defaults, EDGE_KINDS, parseHostPort, renderEdgeConfig, type EdgeKind } from '../edges/config/options.js';

/** `refreshd edge config varnish|nginx|ats|squid`: print the configuration a cache needs for its driver. */
export function registerEdgeCommands(program: Command): void {
  const edge = program.command('edge').description('cache server configuration');
  edge.command('config <cache>')
    .description(`print the configuration ${EDGE_KINDS.join(', ')} needs for refreshd's driver (docs/caches.md)`)
    .option('--purger <cidr>', 'address or CIDR allowed to purge, ban and probe (repeatable; default 127.0.0.1 and ::1)', collect, [])
    .option('--backend <host:port>', 'the origin the cache fetches from', '127.0.0.1:8080')
    .option('--listen <host:port>', 'nginx, ats, squid: where the cache listens for clients')
    .option('--dir <dir>', 'nginx: the cache directory; ats: where the regex_revalidate rules and state live')
    .option('--domain <name[=url]>', 'ats: a domain to map to the backend (or to URL), repeatable', collect, [])
    .option('--tag-header <name>', 'varnish: an origin header whose values are cache tags, besides Cache-Tag and Surrogate-Key (repeatable)', collect, [])
    .option('--probe-sink <host:port>', 'nginx: local port where probe misses end (never stored)')
    .action((cache: string, o: { purger: string[]; backend: string; listen?: string; dir?: string; domain: string[]; tagHeader: string[]; probeSink?: string }) => {
      if (!(EDGE_KINDS as readonly string[]).includes(cache)) throw new Error(`edge config wants one of ${EDGE_KINDS.join(', ')}, got "${cache}"`);
      const kind = cache as EdgeKind;
      const base = defaults(kind);
      process.stdout.write(renderEdgeConfig(kind, {
        purgers: o.purger.length > 0 ? o.purger : base.purgers,
        backend: parseHostPort(o.backend, '--backend'),
        listen: o.listen ? parseHostPort(o.listen, '--listen') : base.listen,
        dir: o.dir ?? base.dir,
        domains: o.domain,
        tagHeaders: o.tagHeader,
        probeSink: o.probeSink ? parseHostPort(o.probeSink, '--probe-sink') : base.probeSink,
      }));
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
