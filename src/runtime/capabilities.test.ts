import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError } from '../util/errors.js';
import {
  ALL_CAPABILITIES,
  capabilityMask,
  DEFAULT_CAPABILITIES,
  hostCapabilities,
  normalizeCapabilities,
  resolveCapabilities,
} from './capabilities.js';

test('Docker defaults are 14 capabilities with CapEff a80425fb', () => {
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.equal(capabilityMask(resolveCapabilities([], [], false)), '00000000a80425fb');
});

test('names are accepted with or without CAP_ and in any case', () => {
  assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_SYS_TIME', 'Sys_Ptrace', 'all']), [
    'CAP_NET_ADMIN',
    'CAP_SYS_TIME',
    'CAP_SYS_PTRACE',
    'ALL',
  ]);
});

test('an unknown capability is a 400 with Docker wording', () => {
  assert.throws(
    () => resolveCapabilities(['FOO'], [], false),
    (e: unknown) =>
      e instanceof EngineError && e.status === 400 && e.message === 'unknown capability: "CAP_FOO"',
  );
});

test('cap-add and cap-drop follow Docker: defaults − drop + add', () => {
  const caps = resolveCapabilities(['NET_ADMIN'], ['chown', 'NET_RAW'], false);
  assert.ok(caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_CHOWN'));
  assert.ok(!caps.includes('CAP_NET_RAW'));
  assert.equal(caps.length, 13);
});

test('drop ALL keeps only what is added; add ALL keeps all but dropped', () => {
  assert.deepEqual(resolveCapabilities(['KILL'], ['ALL'], false), ['CAP_KILL']);
  const all = resolveCapabilities(['ALL'], ['SYS_ADMIN'], false);
  assert.equal(all.length, hostCapabilities().length - 1);
  assert.ok(!all.includes('CAP_SYS_ADMIN'));
});

test('privileged gets every capability the kernel knows', () => {
  const caps = resolveCapabilities([], ['ALL'], true);
  assert.deepEqual(caps, hostCapabilities());
  assert.ok(caps.length <= ALL_CAPABILITIES.length);
  assert.ok(caps.includes('CAP_SYS_ADMIN'));
});
