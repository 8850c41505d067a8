/**
 * Docker's `--user` and `--group-add` resolution against the image's /etc/passwd and
 * /etc/group (moby/sys/user GetExecUser / GetAdditionalGroups), read safely from the
 * untrusted rootfs.
 */
import { badRequest } from '../util/errors.js';
import { readFileInRootfs } from '../util/rootfs-path.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first (as Docker does since the CVE-2023-25173 fix), then the user's groups. */
  additionalGids: number[];
  /** The passwd home directory ('/' when unknown), for a default HOME. */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2147483647;
const rangeError = () => badRequest(`uids and gids must be in range 0-${MAX_ID}`);

/** Go's strconv.Atoi accepts a sign; so do we, then check the range. */
function parseId(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  return Number(s);
}

function checkedId(n: number): number {
  if (n < 0 || n > MAX_ID) throw rangeError();
  return n;
}

function lines(text: string | undefined): string[][] {
  if (text === undefined) return [];
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line.split(':'));
  }
  return out;
}

function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    // A malformed line is skipped rather than read as uid 0.
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] || '/' });
  }
  return out;
}

function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    out.push({ name: f[0] ?? '', gid, members });
  }
  return out;
}

function pushUnique(list: number[], v: number): void {
  if (!list.includes(v)) list.push(v);
}

/**
 * Resolves `user` ('' | name | uid, optionally ':' group name | gid) to numeric ids.
 * A numeric uid without a passwd entry is allowed (gid 0); an unknown name is not.
 */
export function resolveUser(rootfs: string, user: string): ResolvedUser {
  const colon = user.indexOf(':');
  const userArg = colon < 0 ? user : user.slice(0, colon);
  const groupArg = colon < 0 ? '' : user.slice(colon + 1);

  const passwd = parsePasswd(readFileInRootfs(rootfs, '/etc/passwd'));
  const numericUid = userArg === '' ? 0 : parseId(userArg);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  const match =
    numericUid !== undefined
      ? passwd.find((e) => e.uid === numericUid)
      : passwd.find((e) => e.name === userArg);
  if (match) {
    ({ uid, gid, home, name } = match);
  } else if (numericUid !== undefined) {
    uid = checkedId(numericUid);
  } else {
    throw badRequest(`unable to find user ${userArg}: no matching entries in passwd file`);
  }

  const sgids: number[] = [];
  if (groupArg !== '' || name !== '') {
    const groups = parseGroup(readFileInRootfs(rootfs, '/etc/group'));
    if (groupArg !== '') {
      const numericGid = parseId(groupArg);
      const g =
        numericGid !== undefined
          ? groups.find((e) => e.gid === numericGid)
          : groups.find((e) => e.name === groupArg);
      if (g) gid = g.gid;
      else if (numericGid !== undefined) gid = checkedId(numericGid);
      else throw badRequest(`unable to find group ${groupArg}: no matching entries in group file`);
    } else {
      // Supplementary groups only in the implicit form, like Docker.
      for (const g of groups) if (g.members.includes(name)) pushUnique(sgids, g.gid);
    }
  }

  const additionalGids = [gid];
  for (const g of sgids) pushUnique(additionalGids, g);
  return { uid, gid, additionalGids, home };
}

/** Resolves `--group-add` entries (names or gids) to gids. */
export function resolveGroups(rootfs: string, groupAdd: readonly string[]): number[] {
  if (groupAdd.length === 0) return [];
  const groups = parseGroup(readFileInRootfs(rootfs, '/etc/group'));
  const out: number[] = [];
  for (const ag of groupAdd) {
    const numeric = parseId(ag);
    const g = groups.find((e) => e.name === ag || (numeric !== undefined && e.gid === numeric));
    if (g) pushUnique(out, g.gid);
    else if (numeric !== undefined) pushUnique(out, checkedId(numeric));
    else throw badRequest(`Unable to find group ${ag}: no matching entries in group file`);
  }
  return out;
}
