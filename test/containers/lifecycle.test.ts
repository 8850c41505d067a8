// The lifecycle verbs and their error answers, through the docker CLI and the raw API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { docker } from '../harness.js';
import {
  api,
  demux,
  inspect,
  ok,
  rawAttach,
  runDetached,
  sleep,
  until,
  useBusyboxDaemon,
} from './helpers.js';

const d = useBusyboxDaemon();

const runD = (name: string, ...cmd: string[]) => runDetached(d, name, 'busybox', ...cmd);

test('pause and unpause, with Docker’s errors for the wrong state', () => {
  const id = runD('pz', 'sleep', '1000');
  ok(d, ['pause', 'pz']);
  assert.equal(inspect(d, 'pz').State.Status, 'paused');
  assert.match(ok(d, ['ps', '--format', '{{.Status}}']), /^Up .* \(Paused\)$/);
  const again = docker(d, ['pause', 'pz']);
  assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
  ok(d, ['unpause', 'pz']);
  assert.equal(inspect(d, 'pz').State.Status, 'running');
  const notPaused = docker(d, ['unpause', 'pz']);
  assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`));
  ok(d, ['rm', '-f', 'pz']);
});

test('kill takes signal names with and without SIG and numbers; WINCH is harmless', async () => {
  const id = runD('kz', 'sh', '-c', 'trap "echo usr1" USR1; trap "" WINCH; while true; do sleep 0.1; done');
  for (const s of ['USR1', 'SIGUSR1', '10', 'WINCH']) {
    ok(d, ['kill', '-s', s, 'kz']);
    // The shell runs a trap once per wake-up; space the signals out so none coalesce.
    await sleep(400);
  }
  assert.equal(inspect(d, 'kz').State.Status, 'running');
  const a = await rawAttach(d, id, 'logs=1&stdout=1&stderr=1', { end: true, ms: 2000 });
  assert.equal(demux(a.output).stdout, 'usr1\nusr1\nusr1\n');
  ok(d, ['kill', 'kz']);
  const c = inspect(d, 'kz');
  assert.equal(c.State.Status, 'exited');
  assert.equal(c.State.ExitCode, 137);
  const r = docker(d, ['kill', 'kz']);
  assert.match(r.stderr, new RegExp(`Cannot kill container: kz: Container ${id} is not running`));
  assert.match(docker(d, ['kill', '-s', 'NOPE', 'kz']).stderr, /Invalid signal: NOPE/);
  ok(d, ['rm', 'kz']);
});

test('stop uses the image or container STOPSIGNAL and a stopped container answers 304', async () => {
  runD('sz', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done');
  const r = await api(d, 'POST', '/containers/sz/stop?signal=USR1&t=5');
  assert.equal(r.status, 204);
  assert.equal(inspect(d, 'sz').State.ExitCode, 42);
  assert.equal((await api(d, 'POST', '/containers/sz/stop')).status, 304);
  assert.equal(ok(d, ['stop', 'sz']), 'sz', 'the CLI treats 304 as success');
  ok(d, ['rm', 'sz']);
  runDetached(
    d,
    'ss',
    '--stop-signal',
    'USR1',
    'busybox',
    'sh',
    '-c',
    'trap "exit 9" USR1; while true; do sleep 0.1; done',
  );
  ok(d, ['stop', 'ss']);
  assert.equal(inspect(d, 'ss').State.ExitCode, 9);
  ok(d, ['rm', 'ss']);
});

test('start of a running container is 304, rm of a running one is 409 unless forced', async () => {
  const id = runD('rz', 'sleep', '1000');
  assert.equal((await api(d, 'POST', '/containers/rz/start')).status, 304);
  const rm = docker(d, ['rm', 'rz']);
  assert.match(
    rm.stderr,
    new RegExp(
      `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`,
    ),
  );
  ok(d, ['rm', '-f', 'rz']);
  assert.equal((await api(d, 'GET', '/containers/rz/json')).status, 404);
  assert.match(docker(d, ['stop', 'nosuch']).stderr, /No such container: nosuch/);
});

test('restart gives a new process; rename keeps the container', () => {
  runD('rs', 'sleep', '1000');
  const pid = inspect(d, 'rs').State.Pid;
  ok(d, ['restart', '-t', '0', 'rs']);
  const c = inspect(d, 'rs');
  assert.equal(c.State.Status, 'running');
  assert.notEqual(c.State.Pid, pid);
  ok(d, ['rename', 'rs', 'rs2']);
  assert.equal(inspect(d, 'rs2').Id, c.Id);
  assert.equal(docker(d, ['inspect', 'rs']).code, 1);
  runD('other', 'true');
  assert.match(docker(d, ['rename', 'rs2', 'other']).stderr, /is already in use by container/);
  ok(d, ['rm', '-f', 'rs2', 'other']);
});

test('update changes limits of a running container and its restart policy', () => {
  const id = runD('up', 'sleep', '1000');
  ok(d, [
    'update',
    '-m',
    '64m',
    '--memory-swap',
    '128m',
    '--cpu-shares',
    '512',
    '--pids-limit',
    '20',
    '--restart',
    'on-failure:3',
    'up',
  ]);
  const c = inspect(d, 'up');
  assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(c.HostConfig.CpuShares, 512);
  assert.equal(c.HostConfig.PidsLimit, 20);
  assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  // The limit acts: the cgroup says so, and a 100 MB allocation no longer fits.
  const cg = `/sys/fs/cgroup/memory${d.cgroupParent}/${id}/memory.limit_in_bytes`;
  assert.equal(readFile(cg), String(64 * 1024 * 1024));
  assert.equal(readFile(`/sys/fs/cgroup/pids${d.cgroupParent}/${id}/pids.max`), '20');
  assert.match(docker(d, ['update', '-m', '4m', 'up']).stderr, /Minimum memory limit allowed is 6MB/);
  ok(d, ['rm', '-f', 'up']);
});

test('container prune removes stopped containers, honouring label and until filters', () => {
  const keep = runD('running', 'sleep', '1000');
  ok(d, ['create', '--name', 'old-a', '--label', 'prune=yes', 'busybox', 'true']);
  ok(d, ['create', '--name', 'old-b', '--label', 'prune=no', 'busybox', 'true']);
  const out = ok(d, ['container', 'prune', '-f', '--filter', 'label=prune=yes']);
  assert.match(out, /Deleted Containers:/);
  assert.equal(docker(d, ['inspect', 'old-a']).code, 1);
  assert.equal(docker(d, ['inspect', 'old-b']).code, 0);
  ok(d, ['container', 'prune', '-f', '--filter', 'until=1h']);
  assert.equal(docker(d, ['inspect', 'old-b']).code, 0, 'created less than an hour ago');
  ok(d, ['container', 'prune', '-f']);
  assert.equal(docker(d, ['inspect', 'old-b']).code, 1);
  assert.equal(inspect(d, 'running').Id, keep);
  ok(d, ['rm', '-f', 'running']);
});

test('ps filters: status, exited, label, name, ancestor, id', async () => {
  const a = runD('fa', 'sleep', '1000');
  assert.equal(
    docker(d, ['run', '--name', 'fb', '--network', 'none', '-l', 'k=v', 'busybox', 'sh', '-c', 'exit 2'])
      .code,
    2,
  );
  const q = (...f: string[]) =>
    ok(d, ['ps', '-a', '--format', '{{.Names}}', ...f.flatMap((x) => ['--filter', x])]);
  assert.equal(q('status=running'), 'fa');
  assert.equal(q('status=exited'), 'fb');
  assert.equal(q('exited=2'), 'fb');
  assert.equal(q('label=k=v'), 'fb');
  assert.equal(q('name=fa'), 'fa');
  assert.equal(q(`id=${a.slice(0, 8)}`), 'fa');
  assert.equal(q('ancestor=busybox').split('\n').sort().join(','), 'fa,fb');
  assert.match(docker(d, ['ps', '--filter', 'status=bogus']).stderr, /Invalid filter 'status=bogus'/);
  assert.equal(ok(d, ['ps', '--format', '{{.Names}}']), 'fa', 'without -a only running ones');
  assert.equal(ok(d, ['ps', '-l', '--format', '{{.Names}}']), 'fb', '-l is the newest');
  const sized = JSON.parse(ok(d, ['ps', '-a', '-s', '--format', '{{json .}}']).split('\n')[0]!);
  assert.ok('Size' in sized);
  ok(d, ['rm', '-f', 'fa', 'fb']);
});

test('attach before start buffers stdin and streams framed output; wait removed answers after --rm', async () => {
  const create = await api(d, 'POST', '/v1.41/containers/create', {
    Image: 'busybox',
    Cmd: ['sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 6'],
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    HostConfig: { NetworkMode: 'none', AutoRemove: true },
  });
  assert.equal(create.status, 201, create.body);
  const id = JSON.parse(create.body).Id as string;
  const waited = api(d, 'POST', `/v1.41/containers/${id}/wait?condition=removed`);
  const attached = rawAttach(d, id, 'stream=1&stdin=1&stdout=1&stderr=1', {
    input: 'hello\n',
    end: true,
    ms: 10_000,
    afterUpgrade: () => void api(d, 'POST', `/v1.41/containers/${id}/start`),
  });
  const a = await attached;
  assert.equal(a.closedByDaemon, true);
  assert.deepEqual(demux(a.output), { stdout: 'got hello\n', stderr: 'oops\n' });
  const w = await waited;
  assert.deepEqual(JSON.parse(w.body), { Error: null, StatusCode: 6 });
  assert.equal((await api(d, 'GET', `/containers/${id}/json`)).status, 404);
});

test('dockerode-style attach without Upgrade gets 200 and raw bytes until the end', async () => {
  const id = ok(d, ['create', '--network', 'none', '-t', 'busybox', 'echo', 'plain']);
  const body = new Promise<{ status: number; body: string }>((resolve) => {
    void api(d, 'POST', `/containers/${id}/attach?stream=true&stdout=true&stderr=true`).then(resolve);
  });
  await sleep(200);
  ok(d, ['start', id]);
  const r = await body;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'plain\r\n');
  assert.equal(ok(d, ['wait', id]), '0');
  ok(d, ['rm', id]);
});

test('events carry the lifecycle with labels, image and name', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  assert.equal(
    docker(d, ['run', '--name', 'ev', '--network', 'none', '-l', 'who=me', 'busybox', 'sh', '-c', 'exit 2'])
      .code,
    2,
  );
  ok(d, ['rm', 'ev']);
  await until('events', () => true);
  const out = ok(d, [
    'events',
    '--since',
    String(since),
    '--until',
    String(Math.floor(Date.now() / 1000) + 1),
    '--filter',
    'container=ev',
    '--format',
    '{{.Action}} {{index .Actor.Attributes "exitCode"}} {{index .Actor.Attributes "who"}} {{index .Actor.Attributes "name"}}',
  ]);
  const lines = out.split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['create', 'attach', 'start', 'die', 'destroy'],
  );
  assert.ok(lines.includes('die 2 me ev'));
});

function readFile(p: string): string {
  return fs.readFileSync(p, 'utf8').trim();
}

test('--log-opt max-size/max-file rotate the container log', async () => {
  const id = ok(d, [
    'run',
    '-d',
    '--network',
    'none',
    '--log-opt',
    'max-size=2k',
    '--log-opt',
    'max-file=2',
    'busybox',
    'sh',
    '-c',
    'for i in $(seq 1 300); do echo line-$i; sleep 0.01; done; sleep 100',
  ]);
  assert.deepEqual(inspect(d, id).HostConfig.LogConfig, {
    Type: 'json-file',
    Config: { 'max-size': '2k', 'max-file': '2' },
  });
  await until('a rotated log file', () => fs.existsSync(`${d.root}/containers/${id}/ctr.log.1`));
  ok(d, ['rm', '-f', id]);
});
