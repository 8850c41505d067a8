// top, stats, diff, cp, export and commit through the real CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { docker, type RawResponse, request } from '../harness.js';
import { ok, runDetached, until, useBusyboxDaemon } from './helpers.js';

let work: string;
const d = useBusyboxDaemon((daemon) => {
  work = path.join(daemon.dir, 'work');
  fs.mkdirSync(work);
  runDetached(daemon, 'fs', '-m', '64m', 'busybox', 'sleep', '1000');
});

test('top lists the container’s processes, with ps options', () => {
  const out = ok(d, ['top', 'fs']);
  assert.match(out.split('\n')[0]!, /PID/);
  assert.match(out, /sleep 1000/);
  const custom = ok(d, ['top', 'fs', '-o', 'pid,comm']).split('\n');
  assert.deepEqual(custom[0]!.trim().split(/\s+/), ['PID', 'COMMAND']);
  assert.match(custom[1]!, /sleep/);
  ok(d, ['create', '--name', 'fs-created', '--network', 'none', 'busybox', 'true']);
  assert.match(docker(d, ['top', 'fs-created']).stderr, /is not running/);
});

test('stats --no-stream shows memory usage against the -m limit', () => {
  const out = ok(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'fs']);
  assert.match(out, /^fs \S+ \/ 64MiB 1$/);
  const json = JSON.parse(ok(d, ['stats', '--no-stream', '--format', '{{json .}}', 'fs']));
  assert.match(json.CPUPerc, /^\d+\.\d\d%$/);
  // A stopped container reports zeros, like dockerd.
  assert.match(ok(d, ['stats', '--no-stream', '--format', '{{.MemUsage}}', 'fs-created']), /^0B \/ 0B$/);
});

test('diff shows A/C/D against the image', () => {
  ok(d, ['exec', 'fs', 'sh', '-c', 'touch /tmp/added; rm /etc/group; echo x >> /etc/passwd']);
  const lines = ok(d, ['diff', 'fs']).split('\n').sort();
  assert.deepEqual(lines, ['A /tmp/added', 'C /etc', 'C /etc/passwd', 'C /tmp', 'D /etc/group']);
});

test('cp both ways, dir/. copies contents, a file lands under its new name', () => {
  fs.mkdirSync(path.join(work, 'src/sub'), { recursive: true });
  fs.writeFileSync(path.join(work, 'src/a.txt'), 'A');
  fs.writeFileSync(path.join(work, 'src/sub/b.txt'), 'B');
  ok(d, ['cp', path.join(work, 'src'), 'fs:/tmp/']);
  assert.equal(ok(d, ['exec', 'fs', 'cat', '/tmp/src/a.txt', '/tmp/src/sub/b.txt']), 'AB');
  ok(d, ['exec', 'fs', 'mkdir', '/tmp/into']);
  ok(d, ['cp', `${path.join(work, 'src')}/.`, 'fs:/tmp/into']);
  assert.equal(ok(d, ['exec', 'fs', 'ls', '/tmp/into']), 'a.txt\nsub');
  ok(d, ['cp', path.join(work, 'src/a.txt'), 'fs:/tmp/renamed.txt']);
  assert.equal(ok(d, ['exec', 'fs', 'cat', '/tmp/renamed.txt']), 'A');

  ok(d, ['cp', 'fs:/tmp/src', path.join(work, 'back')]);
  assert.equal(fs.readFileSync(path.join(work, 'back/sub/b.txt'), 'utf8'), 'B');
  fs.mkdirSync(path.join(work, 'contents'));
  ok(d, ['cp', 'fs:/tmp/src/.', path.join(work, 'contents')]);
  assert.deepEqual(fs.readdirSync(path.join(work, 'contents')).sort(), ['a.txt', 'sub']);
  const missing = docker(d, ['cp', 'fs:/nonexistent', work]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/nonexistent in container fs/);
});

test('cp into a --read-only container is refused with Docker’s message', () => {
  ok(d, ['run', '-d', '--read-only', '--name', 'fs-ro', '--network', 'none', 'busybox', 'sleep', '1000']);
  const r = docker(d, ['cp', path.join(work, 'src/a.txt'), 'fs-ro:/tmp/']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /container rootfs is marked read-only/);
  ok(d, ['rm', '-f', 'fs-ro']);
});

test('cp works on a stopped container', () => {
  ok(d, ['cp', path.join(work, 'src/a.txt'), 'fs-created:/a.txt']);
  ok(d, ['cp', 'fs-created:/a.txt', path.join(work, 'from-stopped.txt')]);
  assert.equal(fs.readFileSync(path.join(work, 'from-stopped.txt'), 'utf8'), 'A');
});

test('a symlink to / inside the container resolves to the container’s root, never the host’s', () => {
  ok(d, ['exec', 'fs', 'sh', '-c', 'ln -s / /tmp/root; echo container-passwd > /tmp/marker']);
  const r = docker(d, ['cp', 'fs:/tmp/root/etc/passwd', '-']);
  assert.equal(r.code, 0, r.stderr);
  const content = execFileSync('tar', ['-xOf', '-'], { input: Buffer.from(r.stdout, 'latin1') }).toString();
  assert.equal(content, ok(d, ['exec', 'fs', 'cat', '/etc/passwd']) + '\n');
  assert.notEqual(content, fs.readFileSync('/etc/passwd', 'utf8'));
  // Writing through the link lands in the container too.
  ok(d, ['cp', path.join(work, 'src/a.txt'), 'fs:/tmp/root/etc/through-link']);
  assert.equal(ok(d, ['exec', 'fs', 'cat', '/etc/through-link']), 'A');
  assert.equal(fs.existsSync('/etc/through-link'), false);
});

/** The container's freezer state: FROZEN or THAWED (cgroup v1 freezer or v2 cgroup.freeze). */
function freezerState(id: string): string {
  const v1 = `/sys/fs/cgroup/freezer${d.cgroupParent}/${id}/freezer.state`;
  if (fs.existsSync(v1)) return fs.readFileSync(v1, 'utf8').trim();
  const v2 = fs.readFileSync(`/sys/fs/cgroup${d.cgroupParent}/${id}/cgroup.freeze`, 'utf8').trim();
  return v2 === '1' ? 'FROZEN' : 'THAWED';
}

test('cp freezes a running container while it reads its files, and thaws it after', async () => {
  ok(d, ['exec', 'fs', 'dd', 'if=/dev/zero', 'of=/tmp/big', 'bs=1M', 'count=32']);
  const id = ok(d, ['inspect', '-f', '{{.Id}}', 'fs']);
  assert.equal(freezerState(id), 'THAWED');
  // Read the archive slowly: the daemon stays inside the copy until the client drains it.
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http
      .get({ socketPath: d.socket, path: '/containers/fs/archive?path=/tmp/big' }, resolve)
      .on('error', reject);
  });
  assert.equal(res.statusCode, 200);
  assert.equal(freezerState(id), 'FROZEN', 'frozen during the copy');
  let bytes = 0;
  for await (const chunk of res) bytes += (chunk as Buffer).length;
  assert.ok(bytes > 32 * 1024 * 1024, `the whole file came (${bytes} bytes)`);
  await until('the container to be thawed', () => freezerState(id) === 'THAWED');
  const state = JSON.parse(ok(d, ['inspect', '-f', '{{json .State}}', 'fs']));
  assert.equal(state.Status, 'running', 'a copy is not a user pause');
  assert.equal(state.Paused, false);
  ok(d, ['exec', 'fs', 'rm', '/tmp/big']);
});

/** PUT a raw tar to the archive endpoint. */
function putArchive(p: string, tar: Buffer): Promise<RawResponse> {
  return request(
    d,
    'PUT',
    `/v1.41/containers/fs/archive?path=${encodeURIComponent(p)}&noOverwriteDirNonDir=true`,
    {
      body: tar,
      headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length },
    },
  );
}

test('a tar with ../ entries is rejected and writes nothing outside', { timeout: 30_000 }, async () => {
  fs.mkdirSync(path.join(work, 'evil/a'), { recursive: true });
  fs.writeFileSync(path.join(work, 'evil/escaped'), 'x');
  const tar = execFileSync('tar', ['-cPf', '-', '../escaped'], { cwd: path.join(work, 'evil/a') });
  const r = await putArchive('/tmp', tar);
  assert.equal(r.status, 400, r.body);
  assert.match(r.body, /\.\.\/escaped/);
  assert.notEqual(docker(d, ['exec', 'fs', 'ls', '/escaped']).code, 0);
});

test('export streams the whole rootfs as a tar', () => {
  const file = path.join(work, 'export.tar');
  ok(d, ['export', '-o', file, 'fs']);
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n');
  assert.ok(names.includes('bin/busybox'), 'has the image’s files');
  assert.ok(names.includes('tmp/added'), 'has the container’s changes');
  assert.ok(!names.includes('etc/group'), 'deleted files are gone');
});

test('commit makes a new image from the writable layer, with -c changes', () => {
  ok(d, ['exec', 'fs', 'sh', '-c', 'echo committed > /hello']);
  const id = ok(d, [
    'commit',
    '-a',
    'Jane <j@x>',
    '-m',
    'a message',
    '-c',
    'CMD ["cat","/hello"]',
    'fs',
    'committed:v1',
  ]);
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(d, ['run', '--rm', '--network', 'none', 'committed:v1']), 'committed');
  const img = JSON.parse(ok(d, ['image', 'inspect', 'committed:v1']))[0];
  assert.equal(img.Author, 'Jane <j@x>');
  assert.equal(img.Comment, 'a message');
  assert.deepEqual(img.Config.Cmd, ['cat', '/hello']);
  // The new layer holds the container's change, not the mount points runc made for /etc files.
  const saved = path.join(work, 'committed');
  fs.mkdirSync(saved);
  ok(d, ['save', '-o', `${saved}.tar`, 'committed:v1']);
  execFileSync('tar', ['-xf', `${saved}.tar`, '-C', saved]);
  const layers: string[] = JSON.parse(fs.readFileSync(path.join(saved, 'manifest.json'), 'utf8'))[0].Layers;
  const entries = execFileSync('tar', ['-tf', path.join(saved, layers.at(-1) ?? '')], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  assert.ok(entries.includes('hello'), entries.join(' '));
  for (const f of ['etc/hostname', 'etc/hosts', 'etc/resolv.conf'])
    assert.ok(!entries.includes(f), `${f} in ${entries}`);
  // The container was paused for the commit and runs again.
  assert.equal(JSON.parse(ok(d, ['inspect', 'fs']))[0].State.Status, 'running');
  ok(d, ['commit', '--pause=false', '-c', 'ENTRYPOINT ["echo","hi"]', 'fs', 'committed:v2']);
  assert.equal(ok(d, ['run', '--rm', '--network', 'none', 'committed:v2']), 'hi');
});

interface StatsJson {
  name: string;
  read: string;
  preread: string;
  cpu_stats: { cpu_usage: { total_usage: number } };
  precpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { limit: number };
}

test('stats streams one sample a second with precpu from the one before', async () => {
  const samples = await new Promise<StatsJson[]>((resolve, reject) => {
    const got: StatsJson[] = [];
    let buf = '';
    const req = http.get({ socketPath: d.socket, path: '/v1.41/containers/fs/stats?stream=1' }, (res) => {
      res.on('data', (c) => {
        buf += c;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          got.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
        if (got.length >= 2) {
          req.destroy();
          resolve(got);
        }
      });
    });
    req.on('error', reject);
  });
  assert.equal(samples[0]!.name, '/fs');
  assert.equal(samples[0]!.preread, '0001-01-01T00:00:00Z');
  assert.equal(samples[1]!.preread, samples[0]!.read);
  assert.equal(samples[1]!.precpu_stats.cpu_usage.total_usage, samples[0]!.cpu_stats.cpu_usage.total_usage);
  assert.equal(samples[1]!.memory_stats.limit, 64 * 1024 * 1024);
});
