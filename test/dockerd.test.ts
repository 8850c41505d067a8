/**
 * The comparison dockerd helper: it answers the docker CLI on its own socket, runs in its own
 * network namespace, and stop() leaves nothing behind (processes, mounts, netns, cgroups, files).
 * Skipped when the Debian docker.io package is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { type Dockerd, dockerdAvailable, startDockerd } from './dockerd.js';

function docker(d: Dockerd, args: string[]) {
  return spawnSync('docker', args, { env: d.env, encoding: 'utf8', timeout: 120_000 });
}

function procsNaming(marker: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('startDockerd runs an isolated dockerd and stop() removes all of it', {
  skip: !dockerdAvailable(),
}, async () => {
  const d = await startDockerd();
  try {
    const v = docker(d, ['version', '--format', '{{.Server.Version}}']);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^\d+\.\d+/);
    const info = docker(d, ['info', '--format', '{{.DockerRootDir}}']);
    assert.equal(info.stdout.trim(), d.dataRoot);
    // Its bridge lives in its own namespace, not on the host.
    const links = spawnSync('ip', ['-n', d.netns, '-o', 'link'], { encoding: 'utf8' });
    assert.match(links.stdout, /docker0/);
    // A container, so that stop() has a shim and mounts to clean up.
    const imp = spawnSync(
      'sh',
      ['-c', 'tar -C /bin -cf - busybox | docker import -c \'CMD ["/busybox"]\' - t:1'],
      {
        env: d.env,
        encoding: 'utf8',
      },
    );
    assert.equal(imp.status, 0, imp.stderr);
    const run = docker(d, ['run', '-d', '--network', 'none', 't:1', '/busybox', 'sleep', '600']);
    assert.equal(run.status, 0, run.stderr);
  } finally {
    await d.stop();
  }
  assert.equal(fs.existsSync(d.dir), false, `${d.dir} left behind`);
  assert.deepEqual(procsNaming(d.dir), [], 'processes left behind');
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  assert.equal(mounts.includes(d.dir), false, 'mounts left behind');
  assert.equal(fs.existsSync(`/run/netns/${d.netns}`), false, 'netns left behind');
  assert.equal(fs.existsSync(`/sys/fs/cgroup/memory${d.cgroupParent}`), false, 'cgroup left behind');
  await d.stop(); // idempotent
});
