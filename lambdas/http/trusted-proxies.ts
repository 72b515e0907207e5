/**
 * TRUSTED_PROXIES (lambdas/config.ts, docs/configuration.md): the peers whose forwarded headers
 * (RFC 7239 Forwarded, X-Forwarded-Host / -Proto / -Prefix) say what address the client used. Trust is
 * explicit (docs/security.md): any client can send those headers, so only a proxy that overwrites them
 * may be believed, else a request could make the archive write its URIs to an address of its choosing.
 */
import { BlockList, isIP } from 'node:net';

export class TrustedProxiesError extends Error {}

/** Every peer: for a deployment whose only way in is a proxy that overwrites the headers (CloudFront). */
export const ALL_PEERS = '*';

/**
 * The entries of a TRUSTED_PROXIES value: comma-separated IPv4 / IPv6 addresses and CIDR blocks
 * (`127.0.0.1,::1,10.0.0.0/8,fd00::/8`), or `*` alone; empty or absent is none. Throws
 * TrustedProxiesError naming the first invalid entry.
 */
export function parseTrustedProxies(raw: string | undefined): readonly string[] {
  const entries = (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.includes(ALL_PEERS)) {
    if (entries.length > 1) throw new TrustedProxiesError(`'${ALL_PEERS}' (every peer) cannot be combined with other entries`);
    return Object.freeze([ALL_PEERS]);
  }
  for (const entry of entries) addEntry(new BlockList(), entry);
  return Object.freeze([...new Set(entries)]);
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    throw new TrustedProxiesError(`"${entry}" is not an IPv4 or IPv6 address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) return list.addAddress(address, type);
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
    throw new TrustedProxiesError(`"${entry}": the prefix length must be 0 to ${family === 4 ? 32 : 128}`);
  }
  list.addSubnet(address, prefix, type);
}

/** Whether a peer address is one of the trusted proxies. */
export type ProxyTrust = (peer: string | undefined) => boolean;

const matchers = new WeakMap<readonly string[], ProxyTrust>();

/** The trust test of parsed entries, built once per configuration. */
export function proxyTrust(entries: readonly string[]): ProxyTrust {
  let trust = matchers.get(entries);
  if (trust) return trust;
  if (entries.includes(ALL_PEERS)) trust = () => true;
  else if (entries.length === 0) trust = () => false;
  else {
    const list = new BlockList();
    for (const entry of entries) addEntry(list, entry);
    trust = (peer) => {
      const address = normalizedPeer(peer);
      const family = address === undefined ? 0 : isIP(address);
      return family !== 0 && list.check(address!, family === 4 ? 'ipv4' : 'ipv6');
    };
  }
  matchers.set(entries, trust);
  return trust;
}

/**
 * A peer as a bare address: an IPv4-mapped IPv6 address (a dual-stack socket's `::ffff:10.0.0.1`) as
 * its IPv4 address, so that IPv4 entries match it; a zone (`fe80::1%eth0`) dropped.
 */
function normalizedPeer(peer: string | undefined): string | undefined {
  if (!peer) return undefined;
  const bare = peer.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped ? mapped[1] : bare;
}
