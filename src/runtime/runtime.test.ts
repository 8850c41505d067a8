/**
 * Integration tests of the runc + conmon driver with real conmon, runc and a busybox rootfs.
 * Each container gets cgroupsPath /berth-test/<id>; everything is removed afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError } from '../util/errors.js';
import { removeCgroupParents } from './cgroups.js';
import { openRuntime, parseSignal, type RuncConmonRuntime } from './runc-conmon.js';
import type { AttachConnection, IoOptions, LogOptions, LogRecord, OciSpec } from './runtime.js';

const isRoot = process.getuid?.() === 0;
const haveTools = (() => {
  try {
    execFileSync('runc', ['--version']);
    execFileSync('conmon', ['--version']);
    return fs.existsSync('/bin/busybox');
  } catch {
    return false;
  }
})();
const skip = !isRoot || !haveTools ? 'needs root, runc, conmon and /bin/busybox' : false;

let tmp = '';
let rootfs = '';
let template: Record<string, unknown> = {};
let rt: RuncConmonRuntime;
const runtimes: RuncConmonRuntime[] = [];
const ids: string[] = [];
let seq = 0;

function newRuntime(): RuncConmonRuntime {
  const r = openRuntime({ execRoot: path.join(tmp, 'run'), stateRoot: path.join(tmp, 'containers') });
  runtimes.push(r);
  return r;
}

function buildRootfs(dir: string): void {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root'])
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\n');
}

interface TemplateSpec {
  root?: unknown;
  hostname?: string;
  process: { args: string[]; terminal: boolean };
  linux: { cgroupsPath?: string; resources?: Record<string, unknown> };
}

interface SpecOpts {
  terminal?: boolean;
  memory?: number;
  swap?: number;
}

/** A small config.json from `runc spec`'s defaults (the real builder is spec.ts). */
function makeSpec(id: string, args: string[], o: SpecOpts = {}): OciSpec {
  const spec = structuredClone(template) as unknown as TemplateSpec;
  spec.root = { path: rootfs, readonly: true };
  spec.hostname = id.slice(0, 60);
  spec.process.args = args;
  spec.process.terminal = Boolean(o.terminal);
  spec.linux.cgroupsPath = `/berth-test/${id}`;
  if (o.memory)
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: o.memory, swap: o.swap ?? o.memory } };
  return spec as unknown as OciSpec;
}

function newId(name: string): string {
  const id = `bt${process.pid}-${++seq}-${name}`;
  ids.push(id);
  return id;
}

function io(id: string, o: Partial<IoOptions> = {}): IoOptions {
  return {
    terminal: false,
    stdin: false,
    stdinOnce: true,
    logPath: path.join(tmp, 'logs', `${id}.log`),
    ...o,
  };
}

async function collectLogs(logPath: string, o: Partial<LogOptions> = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of rt.logs(logPath, { stdout: true, stderr: true, follow: false, ...o })) out.push(r);
  return out;
}

function collect(att: AttachConnection) {
  const c = { out: '', err: '', ended: new Promise<void>((resolve) => att.onEnd(resolve)) };
  att.onData((stream, data) => {
    if (stream === 1) c.out += data.toString();
    else c.err += data.toString();
  });
  return c;
}

async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(() => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rt-'));
  rootfs = path.join(tmp, 'rootfs');
  buildRootfs(rootfs);
  const specDir = path.join(tmp, 'spec');
  fs.mkdirSync(specDir);
  execFileSync('runc', ['spec', '-b', specDir]);
  template = JSON.parse(fs.readFileSync(path.join(specDir, 'config.json'), 'utf8'));
  rt = newRuntime();
});

after(async () => {
  if (skip) return;
  for (const id of ids) await rt.delete(id, true).catch(() => {});
  for (const r of runtimes) r.close();
  // No conmon of ours may survive.
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('conmon') && cmd.includes(tmp)) {
        process.kill(Number(pid), 'SIGKILL');
        assert.fail(`conmon ${pid} was still running`);
      }
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
    }
  }
  await removeCgroupParents('/berth-test');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('parseSignal accepts names with and without SIG and numbers', { skip }, () => {
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('winch'), 28);
  assert.equal(parseSignal(10), 10);
  assert.equal(parseSignal('9'), 9);
  assert.throws(
    () => parseSignal('FOO'),
    (e: unknown) => e instanceof EngineError && e.status === 400,
  );
  assert.throws(
    () => parseSignal(99),
    (e: unknown) => e instanceof EngineError && e.status === 400,
  );
});

test('create, start, wait: exit code and both streams in the log', { skip, timeout: 30000 }, async () => {
  const id = newId('basic');
  const o = io(id);
  const { pid } = await rt.create(id, makeSpec(id, ['sh', '-c', 'echo out; echo err >&2; exit 3']), o);
  assert.ok(pid > 0);
  assert.equal(await rt.status(id), 'created');
  const exits: [string, number][] = [];
  rt.onExit((xid, e) => exits.push([xid, e.exitCode]));
  await rt.start(id);
  const exit = await rt.wait(id);
  assert.equal(exit.exitCode, 3);
  assert.equal(exit.oomKilled, false);
  assert.deepEqual(
    exits.filter(([x]) => x === id),
    [[id, 3]],
  );
  const recs = await collectLogs(o.logPath);
  assert.deepEqual(
    recs.map((r) => [r.stream, r.line.toString()]),
    [
      [1, 'out\n'],
      [2, 'err\n'],
    ],
  );
  assert.match(recs[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(await rt.status(id), 'stopped');
  await assert.rejects(
    rt.kill(id, 'KILL'),
    (e: unknown) => e instanceof EngineError && e.status === 409 && /is not running/.test(e.message),
  );
  await rt.delete(id);
  assert.equal(await rt.status(id), undefined);
  assert.equal(fs.existsSync(path.join(tmp, 'containers', id, 'config.json')), false);
  assert.equal(fs.existsSync(o.logPath), true, 'the log belongs to the container and stays');
});

test("create of a missing binary fails with runc's message", { skip, timeout: 30000 }, async () => {
  const id = newId('missing');
  await assert.rejects(rt.create(id, makeSpec(id, ['/nonexistent']), io(id)), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.status, 400);
    assert.match(e.message, /no such file or directory/);
    assert.match(e.message, /\/nonexistent/);
    return true;
  });
  assert.equal(await rt.status(id), undefined);
});

test('attach before start gets all output; stdin round trip and EOF', { skip, timeout: 30000 }, async () => {
  const id = newId('stdin');
  const script = 'while read l; do echo "o:$l"; echo "e:$l" >&2; done; echo eof-seen';
  await rt.create(id, makeSpec(id, ['sh', '-c', script]), io(id, { stdin: true, stdinOnce: true }));
  const att = await rt.attach(id, { stdin: true, stdout: true, stderr: true });
  const c = collect(att);
  await rt.start(id);
  att.write(Buffer.from('hello\n'));
  att.write(Buffer.from('world\n'));
  await until(() => c.out.includes('o:world'), 'echo of the second line');
  att.closeStdin();
  await c.ended;
  assert.equal(c.out, 'o:hello\no:world\neof-seen\n');
  assert.equal(c.err, 'e:hello\ne:world\n');
  assert.equal((await rt.wait(id)).exitCode, 0);
});

test('large stdin is split into packets and arrives whole', { skip, timeout: 30000 }, async () => {
  const id = newId('bigstdin');
  await rt.create(id, makeSpec(id, ['sh', '-c', 'wc -c']), io(id, { stdin: true, stdinOnce: true }));
  const att = await rt.attach(id, { stdin: true, stdout: true, stderr: true });
  const c = collect(att);
  await rt.start(id);
  att.write(Buffer.alloc(100_000, 0x61));
  att.closeStdin();
  await c.ended;
  assert.equal(c.out.trim(), '100000');
});

test('TTY: resize through ctl, stty size, input echo', { skip, timeout: 30000 }, async () => {
  const id = newId('tty');
  await rt.create(
    id,
    makeSpec(id, ['sh', '-c', 'read l; stty size; echo got:$l'], { terminal: true }),
    io(id, { terminal: true, stdin: true }),
  );
  rt.resize(id, 30, 100);
  const att = await rt.attach(id, { stdin: true, stdout: true, stderr: true });
  const c = collect(att);
  await rt.start(id);
  att.write(Buffer.from('hi\n'));
  await c.ended;
  assert.match(c.out, /30 100\r\n/);
  assert.match(c.out, /got:hi\r\n/);
  assert.equal(c.err, '');
  assert.equal((await rt.wait(id)).exitCode, 0);
});

test('exec, top, pids, stats; TERM ignored, KILL gives 137', { skip, timeout: 30000 }, async () => {
  const id = newId('exec');
  const spec = makeSpec(id, ['sleep', '1000']);
  const { pid } = await rt.create(id, spec, io(id));
  await rt.start(id);
  assert.equal(await rt.status(id), 'running');

  const base = { env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], privileged: false, spec };
  const ex = await rt.exec(id, {
    ...base,
    execId: 'e1',
    args: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 4'],
    terminal: false,
    stdin: false,
  });
  assert.ok(ex.pid > 0);
  assert.ok(ex.attach);
  const c = collect(ex.attach);
  assert.equal(await ex.exited, 4);
  await c.ended;
  assert.equal(c.out, 'exec-out\n');
  assert.equal(c.err, 'exec-err\n');

  const cat = await rt.exec(id, { ...base, execId: 'e2', args: ['cat'], terminal: false, stdin: true });
  const cc = collect(cat.attach!);
  cat.attach!.write(Buffer.from('ping\n'));
  cat.attach!.closeStdin();
  assert.equal(await cat.exited, 0);
  await cc.ended;
  assert.equal(cc.out, 'ping\n');

  const bad = await rt.exec(id, { ...base, execId: 'e3', args: ['nope'], terminal: false, stdin: false });
  await assert.rejects(bad.exited, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(
      e.message,
      /^OCI runtime exec failed: exec failed: .*executable file not found in \$PATH: unknown$/,
    );
    return true;
  });

  const pids = await rt.pids(id);
  assert.ok(pids.includes(pid), `pids ${pids} include init ${pid}`);
  const t = await rt.top(id, '');
  assert.ok(t.Titles.includes('PID'));
  assert.ok(
    t.Processes.some((p) => p[t.Titles.indexOf('PID')] === String(pid) && p.at(-1)!.includes('sleep 1000')),
  );
  const stats = await rt.stats(id);
  assert.equal(typeof stats.memory_stats, 'object');

  // PID 1 without a TERM handler ignores TERM: the stop timeout passes, then KILL.
  await rt.kill(id, 'TERM');
  const first = await Promise.race([rt.wait(id), sleep(1000).then(() => 'timeout')]);
  assert.equal(first, 'timeout');
  await rt.kill(id, 'SIGKILL', true);
  assert.equal((await rt.wait(id)).exitCode, 137);
  await assert.rejects(
    rt.exec(id, { ...base, execId: 'e4', args: ['true'], terminal: false, stdin: false }),
    /is not running/,
  );
});

test('pause and resume', { skip, timeout: 30000 }, async () => {
  const id = newId('pause');
  const o = io(id);
  await rt.create(
    id,
    makeSpec(id, ['sh', '-c', 'trap "exit 42" TERM; while true; do echo tick; sleep 0.1; done']),
    o,
  );
  await rt.start(id);
  await rt.pause(id);
  assert.equal(await rt.status(id), 'paused');
  await assert.rejects(rt.pause(id), (e: unknown) => e instanceof EngineError && e.status === 409);
  await rt.resume(id);
  assert.equal(await rt.status(id), 'running');
  await assert.rejects(rt.resume(id), /is not paused/);
  await rt.kill(id, 15);
  assert.equal((await rt.wait(id)).exitCode, 42);
  await assert.rejects(rt.pause(id), /is not running/);
});

test('force delete of a paused and of a created task', { skip, timeout: 30000 }, async () => {
  const id = newId('fdpaused');
  await rt.create(id, makeSpec(id, ['sleep', '1000']), io(id));
  await rt.start(id);
  await rt.pause(id);
  await assert.rejects(rt.delete(id), (e: unknown) => e instanceof EngineError && e.status === 409);
  await rt.delete(id, true);
  assert.equal(await rt.status(id), undefined);
  assert.equal(fs.existsSync(path.join(tmp, 'run', 'exits', id)), false);

  const cid = newId('fdcreated');
  await rt.create(cid, makeSpec(cid, ['sleep', '1000']), io(cid));
  const exited = rt.wait(cid);
  await rt.delete(cid, true);
  assert.equal((await exited).exitCode, 137);
  assert.equal(await rt.status(cid), undefined);
  assert.equal(fs.existsSync(path.join(tmp, 'containers', cid)), false);
});

test('OOM kill is reported', { skip, timeout: 30000 }, async () => {
  const id = newId('oom');
  const mib = 1024 * 1024;
  await rt.create(
    id,
    makeSpec(id, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M'], { memory: 32 * mib, swap: 64 * mib }),
    io(id),
  );
  await rt.start(id);
  const exit = await rt.wait(id);
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.oomKilled, true);
});

test('logs: partial lines, tail, since/until, follow', { skip, timeout: 30000 }, async () => {
  const id = newId('logs');
  const o = io(id);
  const script =
    'echo a1; echo b1 >&2; sleep 0.2; echo a2; printf part; sleep 0.2; echo ial; echo b2 >&2; printf end';
  await rt.create(id, makeSpec(id, ['sh', '-c', script]), o);
  await rt.start(id);
  await rt.wait(id);
  const all = await collectLogs(o.logPath);
  assert.deepEqual(
    all.map((r) => `${r.stream}:${r.line}`),
    ['1:a1\n', '2:b1\n', '1:a2\n', '1:partial\n', '2:b2\n', '1:end'],
  );
  const stdoutOnly = await collectLogs(o.logPath, { stderr: false });
  assert.deepEqual(
    stdoutOnly.map((r) => r.line.toString()),
    ['a1\n', 'a2\n', 'partial\n', 'end'],
  );
  const tail2 = await collectLogs(o.logPath, { tail: 2 });
  assert.deepEqual(
    tail2.map((r) => r.line.toString()),
    ['b2\n', 'end'],
  );
  const tail3out = await collectLogs(o.logPath, { tail: 3, stderr: false });
  assert.deepEqual(
    tail3out.map((r) => r.line.toString()),
    ['a2\n', 'partial\n', 'end'],
  );
  assert.deepEqual(await collectLogs(o.logPath, { tail: 0 }), []);
  const a2 = all[2]!;
  const since = await collectLogs(o.logPath, { since: Number(a2.timeNano) / 1e9 - 1e-6 });
  assert.equal(since[0]!.line.toString(), 'a2\n');
  assert.equal(since.length, 4);
  const untilRecs = await collectLogs(o.logPath, { until: Number(all[1]!.timeNano) / 1e9 + 1e-6 });
  assert.deepEqual(
    untilRecs.map((r) => r.line.toString()),
    ['a1\n', 'b1\n'],
  );

  // follow: reads until the container has exited and the log is drained.
  const fid = newId('follow');
  const fo = io(fid);
  await rt.create(fid, makeSpec(fid, ['sh', '-c', 'for i in 1 2 3; do echo f$i; sleep 0.3; done']), fo);
  const lines: string[] = [];
  const reading = (async () => {
    for await (const r of rt.logs(fo.logPath, {
      stdout: true,
      stderr: true,
      follow: true,
      stopWhen: rt.wait(fid),
    })) {
      lines.push(r.line.toString());
    }
  })();
  await rt.start(fid);
  await reading;
  assert.deepEqual(lines, ['f1\n', 'f2\n', 'f3\n']);
});

test('log rotation keeps max-file files and loses no line', { skip, timeout: 60000 }, async () => {
  const id = newId('rotate');
  const o = io(id, { logMaxSize: 2000, logMaxFiles: 3 });
  const script = 'i=0; while [ $i -lt 120 ]; do i=$((i+1)); echo line-$i; sleep 0.03; done';
  await rt.create(id, makeSpec(id, ['sh', '-c', script]), o);
  const lines: string[] = [];
  const following = (async () => {
    for await (const r of rt.logs(o.logPath, {
      stdout: true,
      stderr: true,
      follow: true,
      stopWhen: rt.wait(id),
    })) {
      lines.push(r.line.toString().trim());
    }
  })();
  await rt.start(id);
  await rt.wait(id);
  await following;
  const expected = Array.from({ length: 120 }, (_, i) => `line-${i + 1}`);
  assert.deepEqual(lines, expected, 'a follower across rotations sees every line once');
  assert.ok(fs.existsSync(`${o.logPath}.1`), 'rotated at least once');
  assert.equal(fs.existsSync(`${o.logPath}.3`), false, 'at most max-file files');
  const kept = (await collectLogs(o.logPath)).map((r) => r.line.toString().trim());
  assert.ok(kept.length > 0);
  assert.deepEqual(
    kept,
    expected.slice(expected.length - kept.length),
    'kept lines are the newest, without gaps',
  );
});

test('recover after a daemon restart: running task, attach, stop', { skip, timeout: 30000 }, async () => {
  const id = newId('recover');
  const a = newRuntime();
  const script = 'while read l; do echo got:$l; [ "$l" = quit ] && exit 5; done';
  await a.create(id, makeSpec(id, ['sh', '-c', script]), io(id, { stdin: true, stdinOnce: false }));
  await a.start(id);
  a.close();

  const b = newRuntime();
  const exits: number[] = [];
  b.onExit((xid, e) => xid === id && exits.push(e.exitCode));
  const r = await b.recover(id);
  assert.equal(r.state, 'running');
  assert.ok(r.state === 'running' && r.pid > 0);
  const att = await b.attach(id, { stdin: true, stdout: true, stderr: true });
  const c = collect(att);
  att.write(Buffer.from('hello\n'));
  await until(() => c.out.includes('got:hello'), 'echo through the recovered attach');
  att.write(Buffer.from('quit\n'));
  assert.equal((await b.wait(id)).exitCode, 5);
  assert.deepEqual(exits, [5]);
  await b.delete(id);
});

test('recover finds a task that exited while the daemon was down', { skip, timeout: 30000 }, async () => {
  const id = newId('downexit');
  const a = newRuntime();
  await a.create(id, makeSpec(id, ['sh', '-c', 'sleep 0.3; exit 7']), io(id));
  await a.start(id);
  a.close();
  const exitFile = path.join(tmp, 'run', 'exits', id);
  await until(() => fs.existsSync(exitFile), 'the exit file');

  const b = newRuntime();
  const exits: number[] = [];
  b.onExit((xid, e) => xid === id && exits.push(e.exitCode));
  const r = await b.recover(id);
  assert.equal(r.state, 'exited');
  assert.ok(r.state === 'exited' && r.exit.exitCode === 7);
  assert.deepEqual(exits, [7]);
  assert.equal((await b.wait(id)).exitCode, 7);
  await b.delete(id);
  assert.deepEqual(await b.recover(id), { state: 'gone' });
});
