import type { CacheNode, Domain } from './records.js';

/**
 * The emulator's false Complete: a domain whose group holds only simulated nodes completes its
 * tasks without touching a cache. Harmless while the store has no real node (the offline
 * emulator); once real nodes exist it is almost always a domain left on the built-in fleet.
 * Said at `domain add/set`, at `serve` start and in `domain list`.
 */
export function simulatedOnlyWarning(domain: Pick<Domain, 'name' | 'nodeGroup'>, nodes: CacheNode[]): string | null {
  const real = nodes.filter((n) => n.driver !== 'simulated');
  if (real.length === 0) return null;
  const inGroup = nodes.filter((n) => n.group === domain.nodeGroup && n.enabled);
  if (inGroup.length === 0 || inGroup.some((n) => n.driver !== 'simulated')) return null;
  const groups = [...new Set(real.map((n) => n.group))].sort();
  return `domain ${domain.name} is served by group ${domain.nodeGroup}, which holds only simulated nodes while real cache nodes exist ` +
    `(group${groups.length > 1 ? 's' : ''} ${groups.join(', ')}): its tasks complete without touching a cache; ` +
    `run \`refreshd domain set ${domain.name} --group ${groups[0]}\`, or \`refreshd node remove --simulated\``;
}

/** Every domain's warning, for `serve` at start. */
export function fleetWarnings(domains: Domain[], nodes: CacheNode[]): string[] {
  return domains.map((d) => simulatedOnlyWarning(d, nodes)).filter((w): w is string => w !== null);
}
