/**
 * Linux capabilities as Docker names and combines them: the 14 defaults, every known
 * capability (for "ALL" and validation), and --cap-add/--cap-drop resolution with
 * moby's semantics (oci/caps: NormalizeLegacyCapabilities + TweakCapabilities).
 */
import fs from 'node:fs';
import { badRequest } from '../util/errors.js';

/** Every capability by its number (index = bit in /proc/<pid>/status CapEff). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps/defaults.go), in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

let hostCaps: string[] | undefined;

/**
 * The capabilities a container can be given here: known to the kernel (cap_last_cap) and
 * in the daemon's own bounding set. Privileged containers and cap-add ALL get these;
 * asking runc for more fails with "unable to apply caps" (seen on VMs whose bounding set
 * lacks CAP_SYS_RESOURCE). Docker uses the kernel list only; Podman also the bounding set.
 */
export function hostCapabilities(): string[] {
  if (hostCaps) return hostCaps;
  let last = ALL_CAPABILITIES.length - 1;
  let bounding = (1n << BigInt(ALL_CAPABILITIES.length)) - 1n;
  try {
    const n = Number.parseInt(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isInteger(n) && n >= 0) last = Math.min(n, last);
    const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) bounding = BigInt(`0x${m[1]}`);
  } catch {
    // No procfs: assume the full table.
  }
  hostCaps = ALL_CAPABILITIES.slice(0, last + 1).filter((_, bit) => (bounding >> BigInt(bit)) & 1n);
  return hostCaps;
}

/**
 * Upper-cases, adds the CAP_ prefix and validates; "ALL" stays as it is.
 * Throws 400 `unknown capability: "CAP_FOO"` like Docker.
 */
export function normalizeCapabilities(caps: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of caps) {
    let c = raw.trim().toUpperCase();
    if (c !== 'ALL') {
      if (!c.startsWith('CAP_')) c = `CAP_${c}`;
      if (!ALL_CAPABILITIES.includes(c)) throw badRequest(`unknown capability: ${JSON.stringify(c)}`);
    }
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * The container's capability set from Docker's rules: privileged → all; cap-add ALL →
 * all minus cap-drop; cap-drop ALL → only cap-add; otherwise defaults − drop + add.
 */
export function resolveCapabilities(
  capAdd: readonly string[],
  capDrop: readonly string[],
  privileged: boolean,
): string[] {
  const adds = normalizeCapabilities(capAdd);
  const drops = normalizeCapabilities(capDrop);
  const all = hostCapabilities();
  let caps: string[];
  if (privileged) {
    caps = [...all];
  } else if (adds.includes('ALL')) {
    caps = all.filter((c) => !drops.includes(c));
  } else if (drops.includes('ALL')) {
    caps = [...adds];
  } else {
    caps = DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
    for (const c of adds) if (!caps.includes(c)) caps.push(c);
  }
  return caps.filter((c) => c !== 'ALL');
}

/** The bit mask /proc/<pid>/status prints for a set (CapEff: 00000000a80425fb for the defaults). */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = ALL_CAPABILITIES.indexOf(c);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}
