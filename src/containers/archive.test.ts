import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import {
  archiveContainerPath,
  extractToContainerPath,
  goFileMode,
  resolveContainerPath,
  rfc3339Nano,
  statContainerPath,
} from './archive.js';
import { exportRootfs } from './export.js';

let tmp: string;
let root: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));
  root = path.join(tmp, 'rootfs');
  for (const d of ['etc', 'tmp', 'dir/sub', 'empty']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:container:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'dir/a'), 'A');
  fs.writeFileSync(path.join(root, 'dir/sub/b'), 'BB');
  fs.symlinkSync('/', path.join(root, 'tmp/root'));
  fs.symlinkSync('../../../../../../etc', path.join(root, 'tmp/up'));
  fs.symlinkSync('dir', path.join(root, 'link'));
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Archives `p` and returns the entry names and the tar bytes (listed by GNU tar itself). */
async function archive(
  p: string,
): Promise<{ names: string[]; data: Buffer; stat: { name: string; linkTarget: string } }> {
  let data: Buffer = Buffer.alloc(0);
  let stat = { name: '', linkTarget: '' };
  await archiveContainerPath(root, p, 'ctr', async (s, t) => {
    stat = s;
    data = await collect(t);
  });
  const names = execFileSync('tar', ['-tf', '-'], { input: data, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
  return { names, data, stat };
}

function tarOf(entries: { name: string; body?: string; type?: 'directory' | 'file' }[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: 0o755 });
    else pack.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  pack.finalize();
  return Readable.from(pack);
}

test('Go FileMode bits and RFC3339Nano', () => {
  assert.equal(goFileMode(0o040755), 2147484141);
  assert.equal(goFileMode(0o120777), 0x08000000 + 0o777);
  assert.equal(goFileMode(0o104755), 0x00800000 + 0o755);
  assert.equal(rfc3339Nano(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
});

test('paths resolve inside the root: a symlink to / means the rootfs', () => {
  assert.equal(resolveContainerPath(root, '/tmp/root/etc/passwd').resolved, path.join(root, 'etc/passwd'));
  assert.equal(resolveContainerPath(root, '/tmp/up/passwd').resolved, path.join(root, 'etc/passwd'));
  // The last element is not followed unless the path ends in / or /.
  assert.equal(resolveContainerPath(root, '/link').resolved, path.join(root, 'link'));
  assert.equal(resolveContainerPath(root, '/link/').resolved, `${path.join(root, 'dir')}/`);
  assert.equal(resolveContainerPath(root, '/link/.').abs, '/link/.');
});

test('stat: files, symlinks with their in-root target, and Docker’s 404 text', () => {
  const passwd = statContainerPath(root, '/tmp/root/etc/passwd', 'ctr');
  assert.equal(passwd.name, 'passwd');
  assert.equal(passwd.size, fs.statSync(path.join(root, 'etc/passwd')).size);
  const link = statContainerPath(root, '/tmp/root', 'ctr');
  assert.equal(link.mode & 0x08000000, 0x08000000);
  assert.equal(link.linkTarget, '/');
  assert.equal(statContainerPath(root, '/link', 'ctr').linkTarget, '/dir');
  const dir = statContainerPath(root, '/dir', 'ctr');
  assert.ok((dir.mode & 0x80000000) !== 0);
  assert.throws(
    () => statContainerPath(root, '/nope', 'ctr'),
    /Could not find the file \/nope in container ctr/,
  );
});

test('GET archive: top entry is the basename; dir/. gives the contents; links stay links', async () => {
  assert.deepEqual((await archive('/dir')).names, ['dir/', 'dir/a', 'dir/sub/', 'dir/sub/b']);
  assert.deepEqual((await archive('/dir/.')).names, ['./', './a', './sub/', './sub/b']);
  assert.deepEqual((await archive('/link/')).names, ['link/', 'link/a', 'link/sub/', 'link/sub/b']);
  assert.deepEqual((await archive('/link')).names, ['link']);
  const passwd = await archive('/tmp/root/etc/passwd');
  assert.deepEqual(passwd.names, ['passwd']);
  const content = execFileSync('tar', ['-xOf', '-'], { input: passwd.data, encoding: 'utf8' });
  assert.match(content, /container/);
  await assert.rejects(archive('/missing'), /Could not find the file \/missing in container ctr/);
});

test('PUT archive: extracts into the in-root directory, refuses ../ entries and dir/non-dir swaps', async () => {
  await extractToContainerPath(root, '/tmp/root/empty', 'ctr', tarOf([{ name: 'new.txt', body: 'hi' }]), {
    noOverwriteDirNonDir: true,
    readonlyRootfs: false,
  });
  assert.equal(fs.readFileSync(path.join(root, 'empty/new.txt'), 'utf8'), 'hi');
  await assert.rejects(
    extractToContainerPath(root, '/dir', 'ctr', tarOf([{ name: 'a', type: 'directory' }]), {
      noOverwriteDirNonDir: true,
      readonlyRootfs: false,
    }),
  );
  await assert.rejects(
    extractToContainerPath(root, '/dir/a', 'ctr', tarOf([{ name: 'x', body: '' }]), {
      noOverwriteDirNonDir: true,
      readonlyRootfs: false,
    }),
    /extraction point is not a directory/,
  );
  await assert.rejects(
    extractToContainerPath(root, '/nodir', 'ctr', tarOf([{ name: 'x', body: '' }]), {
      noOverwriteDirNonDir: true,
      readonlyRootfs: false,
    }),
    /Could not find the file \/nodir in container ctr/,
  );
  await assert.rejects(
    extractToContainerPath(root, '/dir', 'ctr', tarOf([{ name: 'x', body: '' }]), {
      noOverwriteDirNonDir: true,
      readonlyRootfs: true,
    }),
    /container rootfs is marked read-only/,
  );
});

test('export: the whole rootfs without ./ prefixes', async () => {
  let data: Buffer = Buffer.alloc(0);
  await exportRootfs(root, async (t) => {
    data = await collect(t);
  });
  const names = execFileSync('tar', ['-tf', '-'], { input: data, encoding: 'utf8' }).split('\n');
  assert.ok(names.includes('etc/passwd'));
  assert.ok(names.includes('tmp/root'));
  assert.ok(!names.some((n) => n.startsWith('./')));
});

// A timeout: a rejected entry in a tar that arrives in several chunks must not hang the upload.
test('PUT archive: a tar with ../ entries is rejected and writes nothing outside', {
  timeout: 10_000,
}, async () => {
  await assert.rejects(
    extractToContainerPath(root, '/empty', 'ctr', tarOf([{ name: '../../evil', body: 'x' }]), {
      noOverwriteDirNonDir: true,
      readonlyRootfs: false,
    }),
    (e: Error & { status?: number }) => e.status === 400,
  );
  assert.equal(fs.existsSync(path.join(tmp, 'evil')), false);
});
