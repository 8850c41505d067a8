// The image commands through the real docker CLI against an isolated berthd: what users see.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeBusyboxImage, makeImageArchive, seededBytes, tarBuffer } from '../fixtures/busybox-image.js';
import { docker, type RawResponse, request, useDaemon } from '../harness.js';

const d = useDaemon();
const busybox = makeBusyboxImage({ layers: 2, layerSize: 200_000 });
const short = (id: string) => id.slice(7, 19);

function ok(args: string[], input?: Buffer | string): string {
  const r = docker(d, args, { input });
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A failing command: non-zero exit and one error line on stderr. */
function fails(args: string[], input?: Buffer | string): string {
  const r = docker(d, args, { input });
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one error line expected, got:\n${r.stderr}`);
  return lines[0]!;
}

function file(name: string, data: Buffer): string {
  const p = path.join(d.dir, name);
  fs.writeFileSync(p, data);
  return p;
}

/** Everything a user or the disk could show of the image store. */
function storeState(): string {
  const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : []);
  return JSON.stringify({
    images: ok(['images', '-a', '--no-trunc']),
    blobs: list(path.join(d.root, 'content', 'blobs', 'sha256')),
    snapshots: list(path.join(d.root, 'snapshots')),
  });
}

function rawPost(p: string, body: Buffer): Promise<RawResponse> {
  return request(d, 'POST', p, { body, headers: { 'Content-Type': 'application/x-tar' } });
}

describe('images through the docker CLI', () => {
  test('load, images, inspect', () => {
    assert.equal(ok(['load', '-i', file('bb.tar', busybox.tar)]), 'Loaded image: busybox:latest\n');
    const table = ok(['images']).split('\n');
    assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(
      table[1]!,
      new RegExp(`^busybox\\s+latest\\s+${short(busybox.id)}\\s+\\S.* ago\\s+[\\d.]+MB$`),
    );
    assert.equal(ok(['images', '-q']), `${short(busybox.id)}\n`);
    assert.equal(
      ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']),
      `busybox:latest ${short(busybox.id)}\n`,
    );
    assert.equal(
      ok(['image', 'inspect', '-f', '{{.Id}} {{.Config.Cmd}} {{len .RootFS.Layers}}', 'busybox']),
      `${busybox.id} [sh] 2\n`,
    );
    const [inspect] = JSON.parse(ok(['image', 'inspect', busybox.id.slice(7, 15)])) as {
      RepoTags: string[];
      GraphDriver: { Name: string };
    }[];
    assert.deepEqual(inspect!.RepoTags, ['busybox:latest']);
    assert.equal(inspect!.GraphDriver.Name, 'overlay2');
    // A TTY-less load asks for quiet=1; the progress messages are there for quiet=0.
  });

  test('load progress messages with quiet=0', async () => {
    const res = await rawPost('/v1.41/images/load?quiet=0', busybox.tar);
    assert.equal(res.status, 200);
    const msgs = res.body
      .split('\r\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { stream?: string; status?: string });
    assert.deepEqual(msgs.at(-1), { stream: 'Loaded image: busybox:latest\n' });
  });

  test('tag and rmi: untag vs delete, conflicts', () => {
    ok(['tag', 'busybox', 'ar-tagged']);
    ok(['tag', busybox.id.slice(7, 19), '127.0.0.1:5000/ar/x:v1']);
    assert.deepEqual(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n').sort(), [
      '127.0.0.1:5000/ar/x:v1',
      'ar-tagged:latest',
      'busybox:latest',
    ]);
    assert.equal(ok(['images', 'ar-*', '--format', '{{.Repository}}']), 'ar-tagged\n');
    assert.equal(ok(['images', '--filter', 'reference=busybox:*', '-q']), `${short(busybox.id)}\n`);
    assert.equal(
      fails(['rmi', short(busybox.id)]),
      `Error response from daemon: conflict: unable to delete ${short(busybox.id)} (must be forced) - image is referenced in multiple repositories`,
    );
    assert.equal(ok(['rmi', 'ar-tagged']), 'Untagged: ar-tagged:latest\n');
    assert.equal(ok(['rmi', '127.0.0.1:5000/ar/x:v1']), 'Untagged: 127.0.0.1:5000/ar/x:v1\n');
    assert.equal(fails(['rmi', 'nope']), 'Error response from daemon: No such image: nope:latest');
    assert.match(fails(['image', 'inspect', 'nope:zzz']), /No such image: nope:zzz/);
    assert.match(fails(['tag', 'nope', 'x']), /No such image: nope:latest/);
    assert.match(
      fails(['tag', 'busybox', 'Bad']),
      /invalid reference format: repository name \(library\/Bad\) must be lowercase/,
    );
  });

  test('history', () => {
    const lines = ok(['history', 'busybox']).trim().split('\n');
    assert.match(lines[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(
      lines[1]!,
      new RegExp(`^${short(busybox.id)}\\s+.*berth test fixture layer 1\\s+20[0-9.]+kB`),
    );
    assert.match(lines[2]!, /^<missing>\s+.*berth test fixture layer 0/);
    assert.equal(ok(['history', '-q', '--no-trunc', 'busybox']), `${busybox.id}\n<missing>\n`);
  });

  test('save and load round trip keeps the ID', () => {
    const out = path.join(d.dir, 'saved.tar');
    ok(['save', '-o', out, 'busybox']);
    assert.equal(ok(['rmi', 'busybox']).split('\n')[0], 'Untagged: busybox:latest');
    assert.equal(ok(['images', '-aq']), '');
    assert.equal(ok(['load'], fs.readFileSync(out)), 'Loaded image: busybox:latest\n');
    assert.equal(ok(['images', '-q', '--no-trunc']), `${busybox.id}\n`);
    assert.match(fails(['save', '-o', path.join(d.dir, 'x.tar'), 'nope']), /No such image: nope/);
  });

  test('import from a file and from stdin, with changes and a message', () => {
    const rootfs = tarBuffer([{ name: 'hello.txt', data: 'hello\n' }]);
    const id = ok([
      'import',
      '-c',
      'CMD ["/bin/sh"]',
      '-c',
      'ENV A=b',
      '-m',
      'my import',
      file('rootfs.tar', rootfs),
      'ar-imported:v1',
    ]).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(
      ok(['image', 'inspect', '-f', '{{.Config.Cmd}} {{.Config.Env}} {{.Comment}}', 'ar-imported:v1']),
      '[/bin/sh] [A=b] my import\n',
    );
    const id2 = ok(['import', '-', 'ar-imported:stdin'], rootfs).trim();
    assert.match(ok(['history', 'ar-imported:stdin']), /Imported from -|\S/);
    assert.notEqual(id2, '');
    assert.match(
      fails(['import', '-c', 'RUN echo', file('r2.tar', rootfs)]),
      /run is not a valid change command/,
    );
    ok(['rmi', 'ar-imported:v1', 'ar-imported:stdin']);
  });

  test('bad archives: one error line, non-zero exit, store unchanged', () => {
    const before = storeState();
    const layer = tarBuffer([{ name: 'x.bin', data: seededBytes(300_000, 'bad') }]);
    const good = makeImageArchive({ layers: [layer], tags: ['bad:1'] });
    const wrongDiff = Buffer.from(good.tar);
    wrongDiff.write('0000', wrongDiff.indexOf(Buffer.from(good.diffIds[0]!.slice(7))) + 8);
    const oci = makeImageArchive({ layers: [layer], tags: ['bad:2'], format: 'oci' });
    const corruptBlob = Buffer.from(oci.tar);
    corruptBlob[corruptBlob.indexOf(Buffer.from('x.bin')) + 1000] ^= 0xff;
    const outside = makeImageArchive({
      layers: [tarBuffer([{ name: '../../../etc/evil', data: 'x' }])],
      tags: ['bad:3'],
    });
    const cases: [string, Buffer, RegExp][] = [
      ['truncated', good.tar.subarray(0, 200_000), /invalid image archive: Unexpected end of data/],
      ['garbage', Buffer.from('not a tar '.repeat(100)), /invalid image archive/],
      ['wrong diffID', wrongDiff, /invalid diffID for layer 0/],
      ['corrupt blob', corruptBlob, /blob blobs\/sha256\/[a-f0-9]{64} has digest/],
      ['unsafe entry', outside.tar, /etc\/evil/],
    ];
    for (const [name, tar, re] of cases) {
      assert.match(fails(['load', '-i', file(`${name}.tar`, tar)]), re, name);
      assert.equal(storeState(), before, `${name} changed the store`);
    }
  });

  test('image prune and system df', () => {
    ok(['load', '-i', file('u.tar', makeBusyboxImage({ tags: [], labels: { dangling: 'yes' } }).tar)]);
    ok(['tag', 'busybox', 'keep:me']);
    const df = ok(['system', 'df']);
    assert.match(df, /^Images\s+2\s+0\s+/m);
    const pruned = ok(['image', 'prune', '-f']);
    assert.match(pruned, /^deleted: sha256:/m);
    assert.match(pruned, /Total reclaimed space: /);
    assert.equal(new Set(ok(['images', '-q']).trim().split('\n')).size, 1, 'only the tagged image is left');
    const all = ok(['image', 'prune', '-a', '-f']);
    assert.match(all, /untagged: busybox:latest/);
    assert.match(all, /untagged: keep:me/);
    assert.equal(ok(['images', '-aq']), '');
  });
});
