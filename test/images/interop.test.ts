// docker save/load interchange with a real dockerd (Debian docker.io, isolated in its own
// netns and roots): archives travel both ways and image IDs stay identical.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Dockerd, dockerdAvailable, startDockerd } from '../dockerd.js';
import { makeBusyboxImage, tarBuffer } from '../fixtures/busybox-image.js';
import { startDaemon, type TestDaemon } from '../harness.js';

const skip = dockerdAvailable()
  ? false
  : 'dockerd is not installed (apt-get install docker.io); interop not checked';

function run(env: NodeJS.ProcessEnv, args: string[], input?: Buffer): string {
  const r = spawnSync('docker', args, {
    env,
    input,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, `docker ${args.join(' ')} (${env.DOCKER_HOST}) failed: ${r.stderr}`);
  return r.stdout;
}

const imageId = (env: NodeJS.ProcessEnv, ref: string) =>
  run(env, ['image', 'inspect', '-f', '{{.Id}}', ref]).trim();

describe('save/load interchange with dockerd', { skip }, () => {
  let berth: TestDaemon;
  let dockerd: Dockerd;
  let dir: string;
  const multi = makeBusyboxImage({ tags: ['ar/multi:v1'], layers: 3, layerSize: 300_000 });

  before(async () => {
    berth = await startDaemon();
    dockerd = await startDockerd();
    dir = berth.dir;
  });
  after(async () => {
    await dockerd?.stop();
    await berth?.cleanup();
  });

  test('the fixture loads into dockerd with the ID berth computes', () => {
    const busybox = makeBusyboxImage();
    run(dockerd.env, ['load'], busybox.tar);
    run(berth.env, ['load'], busybox.tar);
    assert.equal(imageId(dockerd.env, 'busybox'), busybox.id);
    assert.equal(imageId(berth.env, 'busybox'), busybox.id);
  });

  test('dockerd save → berth load: identical IDs, also for an image dockerd made', () => {
    run(dockerd.env, ['load'], multi.tar);
    const rootfs = path.join(dir, 'rootfs.tar');
    fs.writeFileSync(rootfs, tarBuffer([{ name: 'etc/hello', data: 'from dockerd\n' }]));
    run(dockerd.env, ['import', '-c', 'CMD ["/bin/sh"]', '-m', 'made by dockerd', rootfs, 'ar/dimported:v1']);
    const want = {
      multi: imageId(dockerd.env, 'ar/multi:v1'),
      imported: imageId(dockerd.env, 'ar/dimported:v1'),
    };
    const archive = path.join(dir, 'from-dockerd.tar');
    run(dockerd.env, ['save', '-o', archive, 'ar/multi:v1', 'ar/dimported:v1']);
    const out = run(berth.env, ['load', '-i', archive]);
    assert.match(out, /Loaded image: ar\/multi:v1/);
    assert.match(out, /Loaded image: ar\/dimported:v1/);
    assert.equal(imageId(berth.env, 'ar/multi:v1'), want.multi);
    assert.equal(imageId(berth.env, 'ar/dimported:v1'), want.imported);
    assert.equal(
      run(berth.env, ['image', 'inspect', '-f', '{{.Comment}}', 'ar/dimported:v1']),
      'made by dockerd\n',
    );
  });

  test('berth save → dockerd load: identical IDs, also for an image berth made', () => {
    const rootfs = path.join(dir, 'rootfs2.tar');
    fs.writeFileSync(rootfs, tarBuffer([{ name: 'etc/hello', data: 'from berth\n' }]));
    run(berth.env, [
      'import',
      '-c',
      'ENV A=b',
      '-c',
      'EXPOSE 80',
      '-m',
      'made by berth',
      rootfs,
      'ar/bimported:v1',
    ]);
    run(berth.env, ['tag', 'busybox', '127.0.0.1:5000/ar/x:v1']);
    const want = {
      busybox: imageId(berth.env, 'busybox'),
      imported: imageId(berth.env, 'ar/bimported:v1'),
      multi: imageId(berth.env, 'ar/multi:v1'),
    };
    const archive = path.join(dir, 'from-berth.tar');
    run(berth.env, ['save', '-o', archive, '127.0.0.1:5000/ar/x:v1', 'ar/bimported:v1', 'ar/multi:v1']);
    run(dockerd.env, ['rmi', '-f', 'ar/multi:v1']);
    const out = run(dockerd.env, ['load', '-i', archive]);
    assert.match(out, /Loaded image: 127.0.0.1:5000\/ar\/x:v1/);
    assert.match(out, /Loaded image: ar\/bimported:v1/);
    assert.equal(imageId(dockerd.env, '127.0.0.1:5000/ar/x:v1'), want.busybox);
    assert.equal(imageId(dockerd.env, 'ar/bimported:v1'), want.imported);
    assert.equal(imageId(dockerd.env, 'ar/multi:v1'), want.multi);
    assert.equal(
      run(dockerd.env, ['image', 'inspect', '-f', '{{.Config.Env}} {{.Comment}}', 'ar/bimported:v1']),
      '[A=b] made by berth\n',
    );
  });
});
