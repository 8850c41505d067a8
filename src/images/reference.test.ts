import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  familiarMatch,
  familiarName,
  familiarString,
  goPathMatch,
  parseAnyReference,
  parseNormalizedNamed,
  refString,
  tagNameOnly,
  withTag,
} from './reference.js';

const HEX = 'a'.repeat(64);

// [input, fully-qualified (docker's ref.String()), familiar string]
const valid: [string, string, string][] = [
  ['busybox', 'docker.io/library/busybox', 'busybox'],
  ['busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['library/busybox', 'docker.io/library/busybox', 'busybox'],
  ['docker.io/busybox', 'docker.io/library/busybox', 'busybox'],
  ['index.docker.io/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
  ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['user/img', 'docker.io/user/img', 'user/img'],
  ['library/a/b', 'docker.io/library/a/b', 'library/a/b'],
  ['localhost/foo', 'localhost/foo', 'localhost/foo'],
  ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
  ['127.0.0.1:5000/x', '127.0.0.1:5000/x', '127.0.0.1:5000/x'],
  ['127.0.0.1:5000/ar/x:v1', '127.0.0.1:5000/ar/x:v1', '127.0.0.1:5000/ar/x:v1'],
  ['example.com/a_b/c-d/e__f:T.1-x', 'example.com/a_b/c-d/e__f:T.1-x', 'example.com/a_b/c-d/e__f:T.1-x'],
  [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`, `busybox@sha256:${HEX}`],
  [`busybox:1@sha256:${HEX}`, `docker.io/library/busybox:1@sha256:${HEX}`, `busybox:1@sha256:${HEX}`],
  ['a.b/c', 'a.b/c', 'a.b/c'],
  ['Uppercase.example.com/x', 'Uppercase.example.com/x', 'Uppercase.example.com/x'],
  ['ar-tagged', 'docker.io/library/ar-tagged', 'ar-tagged'],
  ['sha256:abc', 'docker.io/library/sha256:abc', 'sha256:abc'],
];

test('parseNormalizedNamed normalises like docker', () => {
  for (const [input, full, familiar] of valid) {
    const r = parseNormalizedNamed(input);
    assert.equal(refString(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test('familiar names and TagNameOnly', () => {
  assert.equal(familiarName(parseNormalizedNamed('busybox:1')), 'busybox');
  assert.equal(familiarString(tagNameOnly(parseNormalizedNamed('busybox'))), 'busybox:latest');
  assert.equal(
    familiarString(tagNameOnly(parseNormalizedNamed(`busybox@sha256:${HEX}`))),
    `busybox@sha256:${HEX}`,
  );
  assert.equal(familiarString(withTag(parseNormalizedNamed('docker.io/library/x'), 'v1')), 'x:v1');
  assert.throws(() => withTag(parseNormalizedNamed('x'), '-bad'), { message: 'invalid tag format' });
});

test('invalid references are rejected with docker messages', () => {
  const cases: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['user/Img:v1', 'invalid reference format: repository name (user/Img) must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['busybox::1', 'invalid reference format'],
    ['-busybox', 'invalid reference format'],
    ['busy box', 'invalid reference format'],
    ['busybox/', 'invalid reference format'],
    ['', 'invalid reference format'],
    ['a//b', 'invalid reference format'],
    [`busybox:${'x'.repeat(129)}`, 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
    [`busybox@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
    [`${'a'.repeat(250)}/b`, 'repository name must not be more than 255 characters'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseNormalizedNamed(input), { status: 400, message }, JSON.stringify(input));
  }
});

test('a 64-hex string or sha256:<hex> is an ID, anything else a name', () => {
  assert.deepEqual(parseAnyReference(HEX), { kind: 'id', id: `sha256:${HEX}` });
  assert.deepEqual(parseAnyReference(`sha256:${HEX}`), { kind: 'id', id: `sha256:${HEX}` });
  const short = parseAnyReference('8debc155d3a2');
  assert.equal(short.kind, 'named');
  assert.equal(short.kind === 'named' && familiarString(short.ref), '8debc155d3a2');
});

test('reference filter patterns match like path.Match on the familiar form', () => {
  const r = parseNormalizedNamed('busybox:latest');
  assert.ok(familiarMatch('busybox', r));
  assert.ok(familiarMatch('busybox:*', r));
  assert.ok(familiarMatch('busy*', r));
  assert.ok(familiarMatch('b?sybox:lat[a-z]st', r));
  assert.ok(!familiarMatch('bus', r));
  assert.ok(!familiarMatch('*:v1', r));
  const reg = parseNormalizedNamed('127.0.0.1:5000/ar/x:v1');
  assert.ok(familiarMatch('127.0.0.1:5000/ar/*', reg));
  assert.ok(!familiarMatch('*', reg), '* does not cross /');
  assert.ok(goPathMatch('a[!b]c', 'axc'));
  assert.ok(!goPathMatch('a[!b]c', 'abc'));
});
