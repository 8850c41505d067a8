/**
 * The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, written into the
 * container's directory and bind-mounted over the image's files (as Docker does), so the
 * image layers are never touched.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MountSpec } from '../runtime/runtime.js';

export interface EtcOptions {
  hostname: string;
  domainname: string;
  /** 'host' copies the host's files; anything else gets the container's own. */
  networkMode: string;
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** The container's address on its network, when it has one. */
  ip?: string;
}

const LOCAL_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function hostsFile(o: EtcOptions): string {
  if (o.networkMode === 'host') return readOr('/etc/hosts', LOCAL_HOSTS);
  let out = LOCAL_HOSTS;
  for (const h of o.extraHosts) {
    // --add-host name:ip (the ip may be IPv6 and contain ':'; Docker splits at the first ':').
    const i = h.indexOf(':');
    if (i > 0) out += `${h.slice(i + 1)}\t${h.slice(0, i)}\n`;
  }
  if (o.ip) {
    const names = o.domainname ? `${o.hostname}.${o.domainname} ${o.hostname}` : o.hostname;
    out += `${o.ip}\t${names}\n`;
  }
  return out;
}

/** Docker's resolv.conf: the host's, minus localhost resolvers (unreachable from a netns). */
function resolvConf(o: EtcOptions): string {
  const host = readOr('/etc/resolv.conf', '');
  if (
    o.networkMode === 'host' &&
    o.dns.length === 0 &&
    o.dnsSearch.length === 0 &&
    o.dnsOptions.length === 0
  ) {
    return host;
  }
  const lines = host.split('\n');
  let servers = lines
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined && !/^(127\.|::1$)/.test(s));
  let search =
    lines
      .map((l) => /^\s*search\s+(.*)$/.exec(l)?.[1])
      .find((s) => s !== undefined)
      ?.trim()
      .split(/\s+/) ?? [];
  let options =
    lines
      .map((l) => /^\s*options\s+(.*)$/.exec(l)?.[1])
      .find((s) => s !== undefined)
      ?.trim()
      .split(/\s+/) ?? [];
  if (o.dns.length > 0) servers = o.dns;
  if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  if (o.dnsSearch.length > 0) search = o.dnsSearch.filter((s) => s !== '.');
  if (o.dnsOptions.length > 0) options = o.dnsOptions;
  let out = '';
  if (search.length > 0) out += `search ${search.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length > 0) out += `options ${options.join(' ')}\n`;
  return out;
}

/** Writes the three files under `dir` and returns the bind mounts for them. */
export function writeEtcFiles(dir: string, o: EtcOptions): MountSpec[] {
  const hostname = o.networkMode === 'host' ? os.hostname() : o.hostname;
  const files: [string, string][] = [
    ['hostname', `${hostname}\n`],
    ['hosts', hostsFile(o)],
    ['resolv.conf', resolvConf(o)],
  ];
  return files.map(([name, content]) => {
    const source = path.join(dir, name);
    // Rewritten before every start, when nothing has them mounted: no fsync, no rename.
    fs.writeFileSync(source, content);
    return { destination: `/etc/${name}`, type: 'bind', source, options: ['rbind', 'rprivate'] };
  });
}
