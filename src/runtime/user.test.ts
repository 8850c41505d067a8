import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { resolveGroups, resolveUser } from './user.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-user-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function rootfs(name: string, passwd: string, group: string): string {
  const r = path.join(tmp, name);
  fs.mkdirSync(path.join(r, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(r, 'etc/passwd'), passwd);
  fs.writeFileSync(path.join(r, 'etc/group'), group);
  return r;
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  '# a comment',
  'app:x:1000:1000::/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  'broken:x:abc:1::/:/bin/sh',
  '',
].join('\n');
const GROUP = [
  'root:x:0:',
  'wheel:x:10:root,app',
  'staff:x:50:app',
  'app:x:1000:',
  'nogroup:x:65534:',
  '',
].join('\n');
const r = rootfs('plain', PASSWD, GROUP);

const is400 = (msg: string) => (e: unknown) =>
  e instanceof EngineError && e.status === 400 && e.message === msg;

test("'' is root with root's supplementary groups", () => {
  assert.deepEqual(resolveUser(r, ''), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
});

test('a name or its uid gives the passwd entry and the groups listing it', () => {
  const want = { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: '/home/app' };
  assert.deepEqual(resolveUser(r, 'app'), want);
  assert.deepEqual(resolveUser(r, '1000'), want);
});

test('an explicit group replaces the primary gid and drops supplementary groups', () => {
  assert.deepEqual(resolveUser(r, 'app:staff'), {
    uid: 1000,
    gid: 50,
    additionalGids: [50],
    home: '/home/app',
  });
  assert.deepEqual(resolveUser(r, 'nobody:4321').gid, 4321);
  assert.deepEqual(resolveUser(r, ':wheel'), { uid: 0, gid: 10, additionalGids: [10], home: '/root' });
});

test('a numeric uid without an entry is allowed with gid 0', () => {
  assert.deepEqual(resolveUser(r, '1234'), { uid: 1234, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser(r, '1234:99'), { uid: 1234, gid: 99, additionalGids: [99], home: '/' });
});

test('unknown names and out-of-range ids are 400s with Docker text', () => {
  assert.throws(
    () => resolveUser(r, 'nosuchuser'),
    is400('unable to find user nosuchuser: no matching entries in passwd file'),
  );
  assert.throws(
    () => resolveUser(r, 'broken'),
    is400('unable to find user broken: no matching entries in passwd file'),
  );
  assert.throws(
    () => resolveUser(r, 'app:nosuch'),
    is400('unable to find group nosuch: no matching entries in group file'),
  );
  assert.throws(() => resolveUser(r, '-1'), is400('uids and gids must be in range 0-2147483647'));
  assert.throws(() => resolveUser(r, '0:2147483648'), is400('uids and gids must be in range 0-2147483647'));
});

test('a rootfs without passwd still resolves root and numeric ids', () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  assert.deepEqual(resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.deepEqual(resolveUser(empty, '5:6').gid, 6);
  assert.throws(
    () => resolveUser(empty, 'app'),
    is400('unable to find user app: no matching entries in passwd file'),
  );
});

test('symlinks in the rootfs cannot reach host files', () => {
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  const evil = path.join(tmp, 'evil');
  fs.mkdirSync(path.join(evil, 'etc'), { recursive: true });
  // Both a relative climb and an absolute host path must stay inside the rootfs.
  fs.symlinkSync('../../outside/passwd', path.join(evil, 'etc/passwd'));
  fs.symlinkSync(path.join(outside, 'passwd'), path.join(evil, 'etc/group'));
  assert.throws(
    () => resolveUser(evil, 'evil'),
    is400('unable to find user evil: no matching entries in passwd file'),
  );
  assert.throws(() => resolveGroups(evil, ['evil']), /Unable to find group evil/);
});

test('symlinks that stay inside the rootfs are followed', () => {
  const linked = path.join(tmp, 'linked');
  fs.mkdirSync(path.join(linked, 'data/etc'), { recursive: true });
  fs.writeFileSync(path.join(linked, 'data/etc/passwd'), 'svc:x:77:88::/srv:/bin/sh\n');
  fs.symlinkSync('/data/etc', path.join(linked, 'etc'));
  assert.deepEqual(resolveUser(linked, 'svc'), { uid: 77, gid: 88, additionalGids: [88], home: '/srv' });
});

test('group-add takes names and gids', () => {
  assert.deepEqual(resolveGroups(r, ['staff', '4242', 'nogroup', '10']), [50, 4242, 65534, 10]);
  assert.throws(
    () => resolveGroups(r, ['nosuch']),
    is400('Unable to find group nosuch: no matching entries in group file'),
  );
  assert.deepEqual(resolveGroups(r, []), []);
});
