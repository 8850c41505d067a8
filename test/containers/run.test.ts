// `docker run` in its modes and the image/config semantics, through the real docker CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { docker } from '../harness.js';
import { inspect, ok, runDetached, runRemoved, until, useBusyboxDaemon } from './helpers.js';

const d = useBusyboxDaemon();

const run = (args: string[], input?: string) => runRemoved(d, args, input);

test('run --rm prints stdout and stderr apart and passes the exit code through', () => {
  const r = run(['busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(ok(d, ['ps', '-aq']), '', 'the --rm container is gone');
});

test('a missing command is 127, a non-executable one 126, a bad user 125', () => {
  const missing = run(['busybox', 'nosuchcommand']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found/);
  const notExec = run(['busybox', '/etc/passwd']);
  assert.equal(notExec.code, 126);
  assert.match(notExec.stderr, /permission denied/);
  const user = run(['-u', 'nosuchuser', 'busybox', 'true']);
  assert.equal(user.code, 125);
  assert.match(user.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
  assert.equal(ok(d, ['ps', '-aq']), '', 'failed --rm containers are removed too');
});

test('a failed start without --rm records the exit code and error, and leaves no task', () => {
  const r = docker(d, ['run', '--name', 'nocmd', '--network', 'none', 'busybox', '/nonexistent']);
  assert.equal(r.code, 127);
  const c = inspect(d, 'nocmd');
  assert.equal(c.State.Status, 'created');
  assert.equal(c.State.ExitCode, 127);
  assert.match(c.State.Error, /no such file or directory/);
  assert.ok(!fs.existsSync(`/sys/fs/cgroup/memory${d.cgroupParent}/${c.Id}`), 'no cgroup left');
  assert.ok(!fs.existsSync(`/sys/fs/cgroup/pids${d.cgroupParent}/${c.Id}`), 'no cgroup left');
  assert.deepEqual(processesNaming(c.Id), [], 'no conmon left');
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  assert.ok(!mounts.includes(c.Id), 'the rootfs is not mounted');
  ok(d, ['rm', 'nocmd']);
  assert.ok(!fs.existsSync(`${d.root}/containers/${c.Id}`), 'rm removes the container directory');
});

test('a missing image is reported as such', () => {
  const r = run(['no-such-image:v1', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Unable to find image 'no-such-image:v1' locally/);
});

test('run -d, ps, inspect, stop -t, rm', () => {
  const id = runDetached(d, 'sleeper', '-l', 'team=a', 'busybox', 'sleep', '1000');
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = ok(d, ['ps', '--format', '{{.ID}} {{.Names}} {{.Status}} {{.Command}} {{.Labels}}']);
  assert.match(ps, new RegExp(`^${id.slice(0, 12)} sleeper Up .* "sleep 1000" team=a$`));
  const c = inspect(d, 'sleeper');
  assert.equal(c.Id, id);
  assert.equal(c.Name, '/sleeper');
  assert.equal(c.State.Status, 'running');
  assert.equal(c.State.Running, true);
  assert.ok(c.State.Pid > 0);
  assert.equal(c.Path, 'sleep');
  assert.deepEqual(c.Args, ['1000']);
  assert.equal(c.HostConfig.NetworkMode, 'none');
  assert.equal(c.HostConfig.LogConfig.Type, 'json-file');
  assert.equal(c.HostConfig.ShmSize, 67108864);
  assert.equal(c.Config.Labels.team, 'a');
  assert.match(c.Image, /^sha256:/);
  assert.ok(!c.LogPath.includes(':'));
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['none']);
  // busybox sleep as PID 1 ignores TERM: the stop waits -t 1 then kills.
  ok(d, ['stop', '-t', '1', 'sleeper']);
  const stopped = inspect(d, 'sleeper');
  assert.equal(stopped.State.Status, 'exited');
  assert.equal(stopped.State.ExitCode, 137);
  assert.match(ok(d, ['ps', '-a', '--format', '{{.Status}}']), /^Exited \(137\) /);
  assert.equal(ok(d, ['ps', '-q']), '');
  ok(d, ['rm', 'sleeper']);
  assert.equal(docker(d, ['inspect', 'sleeper']).code, 1);
});

test('run -i feeds piped stdin and closes it at EOF', () => {
  const r = run(['-i', 'busybox', 'sh', '-c', 'cat; echo EOF-seen'], 'line1\nline2\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'line1\nline2\nEOF-seen\n');
});

test('run -t gives a real terminal with the client size', () => {
  const cmd = "stty rows 30 cols 100; docker run -t --rm --network none busybox sh -c 'tty; stty size'";
  const r = spawnSync('script', ['-q', '-c', cmd, '/dev/null'], {
    env: d.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\/dev\/pts\/0\r+\n30 100\r+\n/);
});

test('image CMD is replaced by args, --entrypoint replaces ENTRYPOINT and clears CMD', () => {
  // The test image has CMD ["sh"] and no ENTRYPOINT.
  const cmd = inspect(d, 'busybox').Config.Cmd;
  assert.deepEqual(cmd, ['sh']);
  assert.equal(run(['busybox', 'echo', 'replaced']).stdout, 'replaced\n');
  assert.equal(run(['--entrypoint', 'echo', 'busybox']).stdout, '\n');
  assert.equal(run(['--entrypoint', 'echo', 'busybox', 'a', 'b']).stdout, 'a b\n');
  const id = ok(d, ['create', '--network', 'none', '--entrypoint', '/bin/echo', 'busybox']);
  const c = inspect(d, id);
  assert.deepEqual(c.Config.Entrypoint, ['/bin/echo']);
  assert.equal(c.Config.Cmd, null);
  ok(d, ['rm', id]);
});

test('env, workdir, user and hostname follow Docker', () => {
  const env = run(['-e', 'A=1', '-e', 'PATH=/bin', 'busybox', 'env']).stdout.split('\n');
  assert.ok(env.includes('A=1'));
  assert.ok(env.includes('PATH=/bin'), 'a user PATH replaces the default');
  assert.ok(env.includes('HOME=/root'));
  assert.ok(env.some((l) => /^HOSTNAME=[0-9a-f]{12}$/.test(l)));
  const wd = run([
    '-w',
    '/made/for/me',
    '-u',
    '1000:1000',
    'busybox',
    'sh',
    '-c',
    'pwd; id -u; id -g; stat -c %u /made/for/me',
  ]);
  assert.equal(wd.stdout, '/made/for/me\n1000\n1000\n1000\n');
  assert.equal(run(['-u', 'nobody', 'busybox', 'id', '-un']).stdout, 'nobody\n');
  const host = run([
    '-h',
    'myhost',
    'busybox',
    'sh',
    '-c',
    'hostname; cat /etc/hostname; grep -c localhost /etc/hosts',
  ]);
  assert.equal(host.stdout, 'myhost\nmyhost\n2\n');
});

test('--read-only, --cap-add/--cap-drop, --privileged, no-new-privileges, --ulimit', () => {
  const ro = run(['--read-only', 'busybox', 'touch', '/x']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  const caps = run([
    '--cap-drop',
    'ALL',
    '--cap-add',
    'NET_ADMIN',
    'busybox',
    'grep',
    'CapEff',
    '/proc/self/status',
  ]);
  assert.equal(caps.stdout, 'CapEff:\t0000000000001000\n');
  const dflt = run(['busybox', 'grep', 'CapEff', '/proc/self/status']);
  assert.equal(dflt.stdout, 'CapEff:\t00000000a80425fb\n', "Docker's default capability set");
  const priv = run(['--privileged', 'busybox', 'grep', 'CapEff', '/proc/self/status']);
  assert.match(priv.stdout, /CapEff:\t000001ffffffffff|CapEff:\t000001fffeffffff|CapEff:\t0000003fffffffff/);
  const nnp = run([
    '--security-opt',
    'no-new-privileges',
    'busybox',
    'grep',
    'NoNewPrivs',
    '/proc/self/status',
  ]);
  assert.equal(nnp.stdout, 'NoNewPrivs:\t1\n');
  const ul = run(['--ulimit', 'nofile=512:1024', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.equal(ul.stdout, '512\n1024\n');
});

test('--init runs tini as PID 1 in front of the command', () => {
  const r = run(['--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$']);
  assert.equal(r.code, 0, r.stderr);
  const [pid1, self] = r.stdout.split('\n');
  assert.match(pid1!, /init -- sh -c/);
  assert.notEqual(self, '1');
});

test('name conflicts and bad names get Docker’s answers', () => {
  const id = ok(d, ['create', '--name', 'taken', '--network', 'none', 'busybox', 'true']);
  const r = docker(d, ['create', '--name', 'taken', 'busybox', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    new RegExp(
      `Conflict. The container name "/taken" is already in use by container "${id}". You have to remove`,
    ),
  );
  const bad = docker(d, ['create', '--name', 'bad name!', 'busybox', 'true']);
  assert.match(
    bad.stderr,
    /Invalid container name \(bad name!\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/,
  );
  ok(d, ['rm', 'taken']);
  const gen = ok(d, ['create', '--network', 'none', 'busybox', 'true']);
  assert.match(inspect(d, gen).Name, /^\/[a-z]+_[a-z]+\d?$/);
  ok(d, ['rm', gen]);
});

test('bad resource values are refused with Docker’s messages and leave nothing behind', () => {
  const before = ok(d, ['ps', '-aq']);
  const cases: [string[], RegExp][] = [
    [['-m', '4m'], /Minimum memory limit allowed is 6MB/],
    [['--cpus', '-1'], /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/],
    [['--cpus', '99'], /Range of CPUs is from 0.01 to \d+\.00/],
    [
      ['-m', '100m', '--memory-swap', '50m'],
      /Minimum memoryswap limit should be larger than memory limit, see usage/,
    ],
    [['--restart', 'sometimes'], /invalid restart policy/],
  ];
  for (const [flags, re] of cases) {
    const r = docker(d, ['run', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')} should fail`);
    assert.match(r.stderr, re);
  }
  assert.equal(docker(d, ['run', '-m', '10q', 'busybox', 'true']).code, 125);
  assert.equal(ok(d, ['ps', '-aq']), before);
});

test('wait conditions: not-running answers at once for a stopped container, next-exit waits', async () => {
  const id = ok(d, ['create', '--network', 'none', 'busybox', 'sh', '-c', 'exit 4']);
  assert.equal(ok(d, ['wait', id]), '0', 'never started: not-running at once');
  ok(d, ['start', id]);
  assert.equal(ok(d, ['wait', id]), '4');
  ok(d, ['rm', id]);
});

test('the default network is a private one with only loopback, shown as bridge', async () => {
  const r = docker(d, ['run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'lo\n');
  const id = ok(d, ['create', 'busybox', 'true']);
  const c = inspect(d, id);
  assert.equal(c.HostConfig.NetworkMode, 'default');
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['bridge']);
  assert.equal(c.NetworkSettings.Networks.bridge.IPAddress, '');
  ok(d, ['rm', id]);
  await until('the daemon log line', () => /bridge networking is not implemented yet/.test(d.output()));
});

function processesNaming(text: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) out.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

test('an unknown network is refused without a pull attempt', () => {
  const r = docker(d, ['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /network nosuchnet not found/);
  assert.doesNotMatch(r.stderr, /Unable to find image/);
});

test("limits the host cannot apply come back as Docker's create warnings", () => {
  // This VM's block scheduler has no weight file, a v2 host has io.bfq.weight: warn exactly when absent.
  const weightFile = ['/sys/fs/cgroup/blkio/blkio.weight', '/sys/fs/cgroup/blkio/blkio.bfq.weight'].some(
    (f) => fs.existsSync(f),
  );
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const r = run(['--blkio-weight', '300', 'busybox', 'true']);
  assert.equal(r.code, 0, r.stderr);
  const warned =
    /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./.test(
      r.stderr,
    );
  assert.equal(warned, !(v2 || weightFile), r.stderr);
});
