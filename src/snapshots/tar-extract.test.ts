import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { extractTar } from './tar-extract.js';
import { tarStream } from './tar-write.js';
import { collect, makeTar, sha256, streamOf, tempDir } from './test-helpers.js';
import { diffEntries } from './upper-diff.js';

const sh = (cmd: string, cwd?: string) => execFileSync('sh', ['-c', cmd], { cwd, stdio: 'pipe' }).toString();

const LONG = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(80)}.txt`;

/** A tree with every kind of entry GNU tar writes, and its tar (posix format, with xattrs). */
function gnuTarFixture(t: { after(fn: () => void): void }) {
  const work = tempDir(t);
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  sh(
    [
      'mkdir -p bin sticky sgid "$(dirname ' + LONG + ')"',
      'printf "plain" > owned && chown 1234:5678 owned && chmod 0640 owned',
      'printf "suid" > bin/suid && chmod 04755 bin/suid && chmod 01777 sticky && chmod 02775 sgid',
      'printf "long" > ' + LONG,
      'ln -s ../owned bin/link-to-owned && ln owned hard && mkfifo pipe && chmod 0620 pipe',
      'printf "cap" > bin/ping && setfattr -n user.berth -v 0x0080ff01 bin/ping',
      'touch -h -d "2001-02-03 04:05:06" owned bin/suid bin/link-to-owned sgid sticky pipe bin',
    ].join(' && '),
    src,
  );
  const plain = path.join(work, 'layer.tar');
  sh(`tar --format=posix --xattrs --xattrs-include='*' -C src -cf layer.tar .`, work);
  sh('gzip -k -c layer.tar > layer.tar.gz && zstd -q -c layer.tar > layer.tar.zst', work);
  return { work, src, plain };
}

test('extracts a GNU tar: modes, owners, times, symlinks, hardlinks, long names, FIFO, xattrs', async (t) => {
  const fx = gnuTarFixture(t);
  const out = tempDir(t);
  const tarBytes = fs.readFileSync(fx.plain);
  const res = await extractTar(streamOf(tarBytes), out, { whiteouts: false });
  assert.equal(res.diffId, sha256(tarBytes));
  assert.equal(res.tarSize, tarBytes.length);

  const st = (p: string) => fs.lstatSync(path.join(out, p));
  const srcSt = (p: string) => fs.lstatSync(path.join(fx.src, p));
  for (const p of ['owned', 'bin/suid', 'sticky', 'sgid', 'pipe', 'bin/link-to-owned', LONG, 'bin/ping']) {
    assert.equal(st(p).mode, srcSt(p).mode, `mode of ${p}`);
    assert.equal(st(p).uid, srcSt(p).uid, `uid of ${p}`);
    assert.equal(st(p).gid, srcSt(p).gid, `gid of ${p}`);
  }
  assert.equal(st('owned').mode & 0o7777, 0o640);
  assert.equal(st('owned').uid, 1234);
  assert.equal(st('owned').gid, 5678);
  assert.equal(st('bin/suid').mode & 0o7777, 0o4755);
  assert.equal(st('sticky').mode & 0o7777, 0o1777);
  assert.equal(st('sgid').mode & 0o7777, 0o2775);
  const when = new Date('2001-02-03T04:05:06').getTime();
  // `bin` has entries after it in the tar: its time is set once they are written.
  for (const p of ['owned', 'bin/suid', 'sgid', 'sticky', 'bin/link-to-owned', 'bin']) {
    assert.equal(Math.floor(st(p).mtimeMs / 1000) * 1000, when, `mtime of ${p}`);
  }
  assert.equal(fs.readlinkSync(path.join(out, 'bin/link-to-owned')), '../owned');
  assert.equal(st('hard').ino, st('owned').ino);
  assert.ok(st('pipe').isFIFO());
  assert.equal(fs.readFileSync(path.join(out, LONG), 'utf8'), 'long');
  assert.match(sh(`getfattr -n user.berth -e hex ${path.join(out, 'bin/ping')}`), /user\.berth=0x0080ff01/);
});

test('gzip and zstd layers unpack the same and keep the diffID of the uncompressed tar', async (t) => {
  const fx = gnuTarFixture(t);
  const diffId = sha256(fs.readFileSync(fx.plain));
  for (const file of ['layer.tar.gz', 'layer.tar.zst']) {
    const out = tempDir(t);
    const kept = path.join(tempDir(t), 'kept.tar');
    const res = await extractTar(fs.createReadStream(path.join(fx.work, file)), out, {
      whiteouts: false,
      keepTarAt: kept,
    });
    assert.equal(res.diffId, diffId, file);
    assert.equal(sha256(fs.readFileSync(kept)), diffId, `${file}: kept tar`);
    assert.equal(fs.readFileSync(path.join(out, LONG), 'utf8'), 'long');
  }
});

test('corrupt compressed data and truncated tars are 400s', async (t) => {
  const fx = gnuTarFixture(t);
  const gz = fs.readFileSync(path.join(fx.work, 'layer.tar.gz'));
  await assert.rejects(
    extractTar(streamOf(gz.subarray(0, gz.length - 20)), tempDir(t), { whiteouts: false }),
    (e) => e instanceof EngineError && e.status === 400 && /gzip/.test(e.message),
  );
  const zst = fs.readFileSync(path.join(fx.work, 'layer.tar.zst'));
  await assert.rejects(
    extractTar(streamOf(zst.subarray(0, zst.length - 20)), tempDir(t), { whiteouts: false }),
    (e) => e instanceof EngineError && e.status === 400 && /zstd/.test(e.message),
  );
  const plain = fs.readFileSync(fx.plain);
  await assert.rejects(
    extractTar(streamOf(plain.subarray(0, 1500)), tempDir(t), { whiteouts: false }),
    (e) => e instanceof EngineError && e.status === 400,
  );
});

/** Runs a hostile tar; asserts the 400 names the entry and that nothing appeared in `outside`. */
async function assertRejected(
  t: { after(fn: () => void): void },
  entries: Parameters<typeof makeTar>[0],
  badEntry: string,
  outside: string,
  message = 'path escapes the target',
  scoped = false,
) {
  const scopeRoot = tempDir(t);
  const target = path.join(scopeRoot, 'a', 'b');
  fs.mkdirSync(target, { recursive: true });
  const before = fs.readdirSync(outside);
  const opts = scoped ? { whiteouts: false, scopeRoot } : { whiteouts: true };
  await assert.rejects(extractTar(streamOf(await makeTar(entries)), target, opts), (e) => {
    assert.ok(e instanceof EngineError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.message, `invalid tar entry "${badEntry}": ${message}`);
    return true;
  });
  assert.deepEqual(fs.readdirSync(outside), before, 'nothing written outside the target');
  assert.deepEqual(fs.readdirSync(path.dirname(target)), ['b'], 'nothing written next to the target');
}

test('hostile tars are refused, naming the entry, with nothing written outside', async (t) => {
  const outside = tempDir(t, 'berth-outside-');
  fs.writeFileSync(path.join(outside, 'secret'), 'keep');
  await assertRejected(t, [{ name: '../x', content: 'x' }], '../x', outside);
  await assertRejected(t, [{ name: 'ok/../../x', content: 'x' }], 'ok/../../x', outside);
  await assertRejected(t, [{ name: '/../../x', content: 'x' }], '/../../x', outside);
  await assertRejected(
    t,
    [
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'a/f', content: 'x' },
    ],
    'a/f',
    outside,
  );
  await assertRejected(
    t,
    [
      { name: 'up', type: 'symlink', linkname: '../..' },
      { name: 'up/x', type: 'directory' },
    ],
    'up/x/',
    outside,
  );
  await assertRejected(t, [{ name: 'l', type: 'link', linkname: '../../x' }], 'l', outside);
  await assertRejected(
    t,
    [
      { name: 's', type: 'symlink', linkname: outside },
      { name: 'l', type: 'link', linkname: 's/secret' },
    ],
    'l',
    outside,
  );
  await assertRejected(
    t,
    [
      { name: 's', type: 'symlink', linkname: outside },
      { name: 's/.wh.secret', content: '' },
    ],
    's/.wh.secret',
    outside,
  );
  await assertRejected(t, [{ name: 'd/.wh...', content: '' }], 'd/.wh...', outside, 'whiteout of ".."');
  assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'keep');
});

test('absolute names land inside the target, as with Docker and GNU tar', async (t) => {
  const target = tempDir(t);
  const abs = `/tmp/berth-abs-${process.pid}-${Date.now()}`;
  await extractTar(streamOf(await makeTar([{ name: `${abs}/f`, content: 'in' }])), target, {
    whiteouts: false,
  });
  assert.equal(fs.existsSync(abs), false);
  assert.equal(fs.readFileSync(path.join(target, abs, 'f'), 'utf8'), 'in');
});

test('a symlink entry replaces an existing file without writing through it', async (t) => {
  const outside = tempDir(t, 'berth-outside-');
  const target = tempDir(t);
  const tar = await makeTar([
    { name: 'f', type: 'symlink', linkname: path.join(outside, 'victim') },
    { name: 'f', content: 'replaced' },
  ]);
  await extractTar(streamOf(tar), target, { whiteouts: false });
  assert.equal(fs.readFileSync(path.join(target, 'f'), 'utf8'), 'replaced');
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('noOverwriteDirNonDir refuses to replace a directory with a file', async (t) => {
  const target = tempDir(t);
  fs.mkdirSync(path.join(target, 'etc'));
  await assert.rejects(
    extractTar(streamOf(await makeTar([{ name: 'etc', content: 'x' }])), target, {
      whiteouts: false,
      noOverwriteDirNonDir: true,
    }),
    /cannot overwrite directory "\/etc" with non-directory "etc"/,
  );
  assert.ok(fs.statSync(path.join(target, 'etc')).isDirectory());
});

test('a hardlink to a file of a lower layer copies the file up', async (t) => {
  const lower = tempDir(t);
  fs.mkdirSync(path.join(lower, 'usr'));
  fs.writeFileSync(path.join(lower, 'usr', 'orig'), 'from below');
  const target = tempDir(t);
  await extractTar(
    streamOf(await makeTar([{ name: 'usr/copy', type: 'link', linkname: 'usr/orig' }])),
    target,
    {
      whiteouts: true,
      parentLowerDirs: [lower],
    },
  );
  assert.equal(fs.readFileSync(path.join(target, 'usr', 'copy'), 'utf8'), 'from below');
});

test('our tar writer round-trips through GNU tar (long names, PAX xattrs)', async (t) => {
  const fx = gnuTarFixture(t);
  const tarBytes = await collect(tarStream(diffEntries(fx.src)));
  const out = tempDir(t);
  fs.writeFileSync(path.join(out, 'w.tar'), tarBytes);
  fs.mkdirSync(path.join(out, 'x'));
  sh(`tar --xattrs --xattrs-include='*' -C x -xpf w.tar`, out);
  assert.equal(fs.readFileSync(path.join(out, 'x', LONG), 'utf8'), 'long');
  assert.match(sh(`getfattr -n user.berth -e hex ${path.join(out, 'x/bin/ping')}`), /user\.berth=0x0080ff01/);
  assert.equal(fs.lstatSync(path.join(out, 'x/bin/suid')).mode & 0o7777, 0o4755);
  assert.equal(fs.lstatSync(path.join(out, 'x/hard')).ino, fs.lstatSync(path.join(out, 'x/owned')).ino);
});

test('without setfattr, an opaque directory becomes whiteouts for the names below it', async (t) => {
  const lower = tempDir(t);
  fs.mkdirSync(path.join(lower, 'opq'));
  fs.writeFileSync(path.join(lower, 'opq', 'old1'), '1');
  fs.mkdirSync(path.join(lower, 'opq', 'old2'));
  const work = tempDir(t);
  const target = path.join(work, 'target');
  fs.mkdirSync(target);
  fs.writeFileSync(
    path.join(work, 'layer.tar'),
    await makeTar([
      { name: 'opq/.wh..wh..opq', content: '' },
      { name: 'opq/new', content: 'n' },
    ]),
  );
  // A PATH with the tools extraction needs, but not the attr package's.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['mknod']) fs.symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
  const script = `
    import fs from 'node:fs';
    import { extractTar } from ${JSON.stringify(new URL('./tar-extract.js', import.meta.url).href)};
    await extractTar(fs.createReadStream(process.argv[1]), process.argv[2], { whiteouts: true, parentLowerDirs: [process.argv[3]] });
  `;
  execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, path.join(work, 'layer.tar'), target, lower],
    {
      env: { PATH: bin },
      stdio: 'pipe',
    },
  );
  const names = fs.readdirSync(path.join(target, 'opq')).sort();
  assert.deepEqual(names, ['new', 'old1', 'old2']);
  for (const n of ['old1', 'old2']) {
    const st = fs.lstatSync(path.join(target, 'opq', n));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, `${n} is a whiteout`);
  }
  assert.doesNotMatch(sh(`getfattr -d -m - ${path.join(target, 'opq')}`), /opaque/);
});

test('a directory later replaced by a symlink does not get its times set through the link', async (t) => {
  const outside = tempDir(t, 'berth-outside-');
  fs.mkdirSync(path.join(outside, 'sub'));
  const before = fs.statSync(path.join(outside, 'sub')).mtimeMs;
  const tar = await makeTar([
    { name: 'd/sub', type: 'directory' },
    { name: 'd', type: 'symlink', linkname: outside },
  ]);
  await extractTar(streamOf(tar), tempDir(t), { whiteouts: false });
  assert.equal(fs.statSync(path.join(outside, 'sub')).mtimeMs, before);
});

/** A container-like root with `/usr/bin`, `/data` and an empty `/tmp/dst` to copy into. */
function scopeFixture(t: { after(fn: () => void): void }) {
  const root = tempDir(t, 'berth-rootfs-');
  for (const d of ['usr/bin', 'data', 'etc', 'tmp/dst'])
    fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/sh'), 'shell');
  fs.symlinkSync('usr/bin', path.join(root, 'bin'));
  return { root, dst: path.join(root, 'tmp/dst') };
}

const scoped = (tar: Buffer, target: string, scopeRoot: string) =>
  extractTar(streamOf(tar), target, { whiteouts: false, scopeRoot, noOverwriteDirNonDir: true });

test('scopeRoot: entries under a parent symlinked to a relative dir are written through it', async (t) => {
  const { root } = scopeFixture(t);
  await scoped(await makeTar([{ name: 'bin/x', content: 'x' }]), root, root);
  assert.equal(fs.readFileSync(path.join(root, 'usr/bin/x'), 'utf8'), 'x');
  assert.equal(fs.readlinkSync(path.join(root, 'bin')), 'usr/bin', '/bin stays a symlink');
  // A hardlink whose target's parent is the symlink resolves in the root too.
  await scoped(await makeTar([{ name: 'bin/sh2', type: 'link', linkname: 'bin/sh' }]), root, root);
  assert.equal(
    fs.statSync(path.join(root, 'usr/bin/sh2')).ino,
    fs.statSync(path.join(root, 'usr/bin/sh')).ino,
  );
});

test('scopeRoot: an absolute link to a dir in the root is re-rooted, missing parents are made', async (t) => {
  const { root, dst } = scopeFixture(t);
  fs.symlinkSync('/data', path.join(dst, 'd'));
  await scoped(
    await makeTar([
      { name: 'd/f', content: 'f' },
      { name: 'd/new/g', content: 'g' },
    ]),
    dst,
    root,
  );
  assert.equal(fs.readFileSync(path.join(root, 'data/f'), 'utf8'), 'f');
  assert.equal(fs.readFileSync(path.join(root, 'data/new/g'), 'utf8'), 'g');
  assert.ok(fs.lstatSync(path.join(dst, 'd')).isSymbolicLink());
});

test('scopeRoot: links to /, to ../../.. and to host paths stay inside the root', async (t) => {
  const { root, dst } = scopeFixture(t);
  const outside = tempDir(t, 'berth-outside-');
  const name = `berth-scope-${process.pid}`;
  fs.symlinkSync('/', path.join(dst, 'r'));
  fs.symlinkSync('../../../../../../..', path.join(dst, 'u'));
  fs.symlinkSync(outside, path.join(dst, 'h'));
  const tar = await makeTar([
    { name: `r/etc/${name}-1`, content: '1' },
    { name: `u/etc/${name}-2`, content: '2' },
    { name: 'h/f', content: 'h' },
    // Links the tar itself creates are followed the same way.
    { name: 'up', type: 'symlink', linkname: '../../..' },
    { name: `up/etc/${name}-3`, content: '3' },
  ]);
  await scoped(tar, dst, root);
  for (const i of [1, 2, 3]) {
    assert.equal(fs.readFileSync(path.join(root, `etc/${name}-${i}`), 'utf8'), String(i));
    assert.equal(fs.existsSync(`/etc/${name}-${i}`), false, 'the host /etc is untouched');
  }
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.equal(fs.readFileSync(path.join(root, outside, 'f'), 'utf8'), 'h');
  assert.equal(fs.readlinkSync(path.join(dst, 'up')), '../../..');
});

test('scopeRoot: an entry that is itself a symlink is created as one, never followed', async (t) => {
  const { root, dst } = scopeFixture(t);
  const outside = tempDir(t, 'berth-outside-');
  fs.writeFileSync(path.join(outside, 'victim'), 'keep');
  fs.symlinkSync(path.join(outside, 'victim'), path.join(dst, 'f'));
  fs.symlinkSync('/etc', path.join(dst, 'e'));
  const tar = await makeTar([
    { name: 'f', content: 'replaced' },
    { name: 'e', type: 'symlink', linkname: '/data' },
    { name: 'l', type: 'symlink', linkname: '/etc/shadow' },
  ]);
  await scoped(tar, dst, root);
  assert.equal(fs.readFileSync(path.join(outside, 'victim'), 'utf8'), 'keep');
  assert.equal(fs.lstatSync(path.join(dst, 'f')).isFile(), true);
  assert.equal(fs.readFileSync(path.join(dst, 'f'), 'utf8'), 'replaced');
  assert.equal(fs.readlinkSync(path.join(dst, 'e')), '/data');
  assert.equal(fs.readlinkSync(path.join(dst, 'l')), '/etc/shadow');
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc')), [], 'nothing written through /etc');
});

test('scopeRoot: hostile tars are refused, naming the entry, with nothing written outside', async (t) => {
  const outside = tempDir(t, 'berth-outside-');
  fs.writeFileSync(path.join(outside, 'secret'), 'keep');
  const reject = (entries: Parameters<typeof makeTar>[0], bad: string, message?: string) =>
    assertRejected(t, entries, bad, outside, message, true);
  await reject([{ name: '../x', content: 'x' }], '../x');
  await reject([{ name: 'ok/../../x', content: 'x' }], 'ok/../../x');
  await reject([{ name: '/../../x', content: 'x' }], '/../../x');
  await reject([{ name: 'l', type: 'link', linkname: '../../x' }], 'l');
  // The host file is not reachable: the link's target resolves to <root>/<outside>/secret.
  await reject(
    [
      { name: 's', type: 'symlink', linkname: outside },
      { name: 'l', type: 'link', linkname: 's/secret' },
    ],
    'l',
    `hardlink target "s/secret" not found`,
  );
  await reject(
    [
      { name: 'up', type: 'symlink', linkname: '../../../..' },
      { name: 'l', type: 'link', linkname: `up${outside}/secret` },
    ],
    'l',
    `hardlink target "up${outside}/secret" not found`,
  );
  assert.equal(fs.statSync(path.join(outside, 'secret')).nlink, 1);
  assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'keep');
});

test('scopeRoot: the target must lie inside the scope root', async (t) => {
  const { root } = scopeFixture(t);
  await assert.rejects(
    extractTar(streamOf(await makeTar([{ name: 'x', content: 'x' }])), tempDir(t), {
      whiteouts: false,
      scopeRoot: root,
    }),
    /is not inside scope root/,
  );
});

test('a refused entry of a tar arriving in many chunks rejects instead of hanging', {
  timeout: 10_000,
}, async (t) => {
  const bytes = await makeTar([
    { name: '../evil', content: 'x'.repeat(4096) },
    { name: 'more', content: 'y'.repeat(65536) },
  ]);
  const chunks: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += 512) chunks.push(bytes.subarray(off, off + 512));
  const scopeRoot = tempDir(t);
  for (const opts of [{ whiteouts: false }, { whiteouts: false, scopeRoot }]) {
    await assert.rejects(
      extractTar(Readable.from(chunks), scopeRoot, opts),
      /invalid tar entry "\.\.\/evil": path escapes the target/,
    );
  }
});
