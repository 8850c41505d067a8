/** The memory row's arithmetic on small smaps fixtures, and one read of a real process. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { footprint, parseSmaps, readProc } from './memory.js';

/** One smaps entry as the kernel writes it (sizes in kB); the fields that are not sizes included. */
function entry(
  header: string,
  s: { rss: number; pss: number; sc?: number; sd?: number; pc?: number; pd?: number },
): string {
  return [
    header,
    `Size:               ${s.rss * 2} kB`,
    'KernelPageSize:        4 kB',
    `Rss:                 ${s.rss} kB`,
    `Pss:                 ${s.pss} kB`,
    `Shared_Clean:        ${s.sc ?? 0} kB`,
    `Shared_Dirty:        ${s.sd ?? 0} kB`,
    `Private_Clean:       ${s.pc ?? 0} kB`,
    `Private_Dirty:       ${s.pd ?? 0} kB`,
    'Swap:                  0 kB',
    'THPeligible:    0',
    'VmFlags: rd ex mr mw me dw',
  ].join('\n');
}

const DAEMON = '55fbe84c0000-55fbe84c2000 r-xp 00002000 fe:00 1001                     /usr/bin/daemon';
const MONITOR_TEXT = '5600000000-5600001000 r-xp 00000000 fe:00 2002    /usr/bin/monitor';
const MONITOR_DATA = '5600001000-5600002000 r--p 00001000 fe:00 2002    /usr/bin/monitor';
const LIBC = '7f0000000000-7f0000100000 r-xp 00000000 fe:00 3003    /usr/lib/x86_64-linux-gnu/libc.so.6';
const HEAP = '5600003000-5600004000 rw-p 00000000 00:00 0                          [heap]';
const VDSO = '7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                  [vdso]';

// A daemon whose binary is also mapped by 3 processes outside the engine (PSS gets a quarter of
// it), and two monitors sharing their own binary and libc with each other and the rest of the machine.
const daemon = [
  entry(DAEMON, { rss: 4000, pss: 1000, sc: 4000 }),
  entry(LIBC, { rss: 1000, pss: 50, sc: 1000 }),
  entry(HEAP, { rss: 3000, pss: 3000, pd: 3000 }),
  entry(VDSO, { rss: 8, pss: 0, sc: 8 }),
].join('\n');
const monitor = (heap: number, text: number) =>
  [
    entry(MONITOR_TEXT, { rss: text, pss: text / 2, sc: text }),
    entry(MONITOR_DATA, { rss: 40, pss: 40, pd: 40 }),
    entry(LIBC, { rss: 600, pss: 30, sc: 600 }),
    entry(HEAP, { rss: heap, pss: heap, pd: heap }),
    entry(VDSO, { rss: 8, pss: 0, sc: 8 }),
  ].join('\n');

test('parseSmaps keys files by device and inode, anonymous memory by process, [vdso] by name', () => {
  const m = parseSmaps(monitor(100, 200), 7);
  assert.deepEqual(
    m.map((x) => [x.key, x.name, x.rss, x.pss, x.private, x.shared]),
    [
      ['file:fe:00:2002', '/usr/bin/monitor', 200, 100, 0, 200],
      ['file:fe:00:2002', '/usr/bin/monitor', 40, 40, 40, 0],
      ['file:fe:00:3003', '/usr/lib/x86_64-linux-gnu/libc.so.6', 600, 30, 0, 600],
      ['anon:7:5600003000', '[heap]', 100, 100, 100, 0],
      ['[vdso]', '[vdso]', 8, 0, 0, 8],
    ],
  );
  assert.deepEqual(parseSmaps('', 7), []);
  assert.throws(() => parseSmaps('Rss: 4 kB', 7), /smaps of 7: field before any mapping: "Rss: 4 kB"/);
  assert.throws(() => parseSmaps(`${DAEMON}\nRss: 4 kB`, 7), /mapping "\/usr\/bin\/daemon" has no Pss field/);
  assert.throws(() => parseSmaps('hello world', 7), /unexpected line "hello world"/);
});

test('footprint counts private pages fully and each shared file once, at its largest', () => {
  const f = footprint([
    { pid: 1, name: 'daemon', mappings: parseSmaps(daemon, 1) },
    { pid: 2, name: 'monitor', mappings: parseSmaps(monitor(100, 200), 2) },
    { pid: 3, name: 'monitor', mappings: parseSmaps(monitor(120, 240), 3) },
  ]);
  // Private: daemon heap 3000; each monitor's data page 40 and heap 100 / 120.
  assert.equal(f.private, 3000 + 40 + 100 + 40 + 120);
  // Shared once: daemon binary 4000 in full (its other mappers are not the engine), libc at the
  // daemon's 1000 (more than either monitor's 600), the monitor binary at 240, [vdso] 8 once.
  assert.equal(f.sharedOnce, 4000 + 1000 + 240 + 8);
  assert.equal(f.total, f.private + f.sharedOnce);
  assert.deepEqual(f.byName, { daemon: 3000 + 4000 + 1000 + 8, monitor: 40 + 100 + 40 + 120 + 240 });
  assert.equal(f.pss, 1000 + 50 + 3000 + (100 + 40 + 30 + 100) + (120 + 40 + 30 + 120));
  assert.equal(f.pssByName.daemon, 4050);
  assert.equal(f.processes, 3);
  assert.deepEqual(
    f.largestShared.map((s) => [s.name, s.kib]),
    [
      ['/usr/bin/daemon', 4000],
      ['/usr/lib/x86_64-linux-gnu/libc.so.6', 1000],
      ['/usr/bin/monitor', 240],
      ['[vdso]', 8],
    ],
  );
});

test('footprint does not move when processes outside the engine map the same files', () => {
  // The same daemon seen alone on the machine: its binary and libc pages are private then.
  const alone = [
    entry(DAEMON, { rss: 4000, pss: 4000, pc: 4000 }),
    entry(LIBC, { rss: 1000, pss: 1000, pc: 1000 }),
    entry(HEAP, { rss: 3000, pss: 3000, pd: 3000 }),
    entry(VDSO, { rss: 8, pss: 8, pc: 8 }),
  ].join('\n');
  const a = footprint([{ pid: 1, name: 'daemon', mappings: parseSmaps(alone, 1) }]);
  const b = footprint([{ pid: 1, name: 'daemon', mappings: parseSmaps(daemon, 1) }]);
  assert.equal(a.total, b.total);
  assert.equal(a.total, 8008);
  assert.ok(b.pss < a.pss);
});

test('readProc reads a live process: its footprint alone is its Rss', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    // exec may still be under way right after spawn; wait until the process is sleep.
    let p = readProc(child.pid!);
    for (let i = 0; i < 100 && p?.name !== 'sleep'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      p = readProc(child.pid!);
    }
    assert.ok(p, 'sleep is running');
    assert.equal(p.name, 'sleep');
    const rss = p.mappings.reduce((s, m) => s + m.rss, 0);
    assert.ok(rss > 0);
    assert.equal(footprint([p]).total, rss);
  } finally {
    child.kill('SIGKILL');
  }
  await once(child, 'exit');
});
