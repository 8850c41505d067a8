// `run --rm` answers once the container is gone from the API and cleans its files up behind
// that answer; a daemon killed before the clean-up finished completes it at the next start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ok, runDetached, runRemoved, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

/** What a container can leave on the host, by id: directory, mount, runc state, writable layer, processes. */
function leftovers(id: string): string[] {
  const out: string[] = [];
  if (fs.existsSync(path.join(d.root, 'containers', id))) out.push('container directory');
  if (fs.readFileSync('/proc/self/mounts', 'utf8').includes(id)) out.push('rootfs mount');
  if (fs.existsSync(path.join(d.execRoot, 'runc', id))) out.push('runc state');
  if (fs.existsSync(path.join(d.execRoot, 'tasks', id))) out.push('task bundle');
  if (fs.existsSync(path.join(d.root, 'snapshots', 'rw', id))) out.push('writable layer');
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(id)) out.push(`process ${pid}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function pendingRemovals(): number {
  const db = new Database(path.join(d.root, 'berth.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM container_removals').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('run --rm leaves nothing behind once its clean-up has run', async () => {
  const cidfile = (n: number) => path.join(d.dir, `removed-${n}.cid`);
  const r = runRemoved(d, [
    '--cidfile',
    cidfile(1),
    '--name',
    'gone',
    'busybox',
    'sh',
    '-c',
    'echo hi; exit 5',
  ]);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  assert.equal(ok(d, ['ps', '-aq']), '', 'the container is gone for the API at once');
  // The name is free at once too.
  const again = runRemoved(d, ['--cidfile', cidfile(2), '--name', 'gone', 'busybox', 'true']);
  assert.equal(again.code, 0, again.stderr);
  const ids = [1, 2].map((n) => fs.readFileSync(cidfile(n), 'utf8').trim());
  assert.equal(ids.length, 2);
  await until(
    'the clean-up of the removed containers',
    () =>
      ids.every((id) => /^[0-9a-f]{64}$/.test(id) && leftovers(id).length === 0) && pendingRemovals() === 0,
  );
});

test('a removal cut short by kill -9 is finished at the next start', async () => {
  const id = runDetached(d, 'journaled', 'busybox', 'sleep', '1000');
  await d.kill9();
  // The state a crash right after the removal's transaction leaves: the row is gone, the
  // journal names the container, and its task, mount, writable layer and files are all there.
  const db = new Database(path.join(d.root, 'berth.db'));
  try {
    db.transaction(() => {
      const row = db.prepare('SELECT image_id FROM containers WHERE id = ?').get(id) as { image_id: string };
      db.prepare('DELETE FROM containers WHERE id = ?').run(id);
      db.prepare('INSERT INTO container_removals (id, dir, rootfs, image_id) VALUES (?, ?, ?, ?)').run(
        id,
        path.join(d.root, 'containers', id),
        path.join(d.root, 'containers', id, 'rootfs'),
        row.image_id,
      );
    })();
  } finally {
    db.close();
  }
  assert.ok(leftovers(id).length >= 4, `before the restart: ${leftovers(id).join(', ')}`);
  await d.restart();
  assert.equal(ok(d, ['ps', '-aq']), '');
  assert.deepEqual(leftovers(id), []);
  assert.equal(pendingRemovals(), 0);
});
