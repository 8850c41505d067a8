import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDaemonArgs } from './config.js';

test('berthd flags set roots, hosts and the default bridge', () => {
  const c = parseDaemonArgs([
    '--root',
    '/r',
    '--exec-root=/e',
    '-H',
    'unix:///e/b.sock',
    '--host',
    'tcp://127.0.0.1:2375',
    '-b',
    'br9',
    '--bip',
    '10.9.0.1/24',
    '-D',
  ]);
  assert.equal(c.root, '/r');
  assert.equal(c.execRoot, '/e');
  assert.deepEqual(c.hosts, ['unix:///e/b.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(c.bridgeName, 'br9');
  assert.equal(c.bridgeSubnet, '10.9.0.1/24');
  assert.equal(c.logLevel, 'debug');
});

test('defaults follow DESIGN.md decision 5', () => {
  const c = parseDaemonArgs([]);
  assert.equal(c.root, '/var/lib/berth');
  assert.equal(c.execRoot, '/run/berth');
  assert.deepEqual(c.hosts, ['unix:///run/berth/berth.sock']);
});

test('bad flags and values are named in the error', () => {
  assert.throws(() => parseDaemonArgs(['--bogus']), /unknown flag: --bogus/);
  assert.throws(() => parseDaemonArgs(['--root']), /flag needs an argument: --root/);
  assert.throws(
    () => parseDaemonArgs(['-H', '/tmp/x.sock']),
    /invalid value "\/tmp\/x.sock" for flag --host/,
  );
  assert.throws(() => parseDaemonArgs(['--bip', '10.0.0.0']), /invalid value "10.0.0.0" for flag --bip/);
});
