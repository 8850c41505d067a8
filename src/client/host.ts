// Daemon addresses as docker spells them: unix:///path, tcp://host:port, or a bare /path.

export type DaemonAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; hostname: string; port: number };

export function parseHost(host: string): DaemonAddress {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path) throw new Error(`invalid daemon address "${host}": empty socket path`);
    return { kind: 'unix', path };
  }
  if (host.startsWith('/')) return { kind: 'unix', path: host };
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)?(?::(\d+))?\/?$/.exec(host);
  if (m) {
    const hostname = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
    const port = m[2] ? Number(m[2]) : 2375;
    return { kind: 'tcp', hostname, port };
  }
  throw new Error(`unable to parse docker host \`${host}\``);
}
