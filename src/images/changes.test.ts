import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges, splitWords } from './changes.js';
import { canonicalContainerConfig, chainIds, goTime, serializeImageConfig, sha256 } from './config.js';

test('change instructions in their Dockerfile forms', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=old'], Cmd: ['sh'] }, [
    'ENV A=new B="two words" C=\'q\'',
    'ENV LEGACY some value',
    'LABEL "com.x"=1 other=two',
    'EXPOSE 80 53/udp 1000-1001',
    'VOLUME ["/data"]',
    'VOLUME /a /b',
    'WORKDIR /app',
    'WORKDIR sub',
    'USER 1000:1000',
    'ONBUILD RUN echo hi',
    'ENTRYPOINT ["/bin/busybox"]',
  ]);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=new', 'B=two words', 'C=q', 'LEGACY=some value']);
  assert.deepEqual(c.Labels, { 'com.x': '1', other: 'two' });
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['80/tcp', '53/udp', '1000/tcp', '1001/tcp']);
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data', '/a', '/b']);
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.OnBuild, ['RUN echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/busybox']);
  assert.equal(c.Cmd, null, 'a new ENTRYPOINT drops the inherited CMD');
  assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({}, ['CMD ["a","b"]', 'ENTRYPOINT x']), {
    Cmd: ['a', 'b'],
    Entrypoint: ['/bin/sh', '-c', 'x'],
  });
});

test('HEALTHCHECK with its flags, in both forms, and NONE', () => {
  assert.deepEqual(
    applyChanges({}, ['HEALTHCHECK --interval=1m30s --timeout=3s --retries=2 CMD curl -f x']).Healthcheck,
    {
      Interval: 90e9,
      Timeout: 3e9,
      Retries: 2,
      Test: ['CMD-SHELL', 'curl -f x'],
    },
  );
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK --start-period=500ms CMD ["true"]']).Healthcheck, {
    StartPeriod: 5e8,
    Test: ['CMD', 'true'],
  });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --every=1s CMD true']), {
    status: 400,
    message: 'Unknown flag: every',
  });
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --interval=soon CMD true']), {
    status: 400,
    message: 'invalid duration for --interval: "soon"',
  });
});

test('bad changes name the instruction', () => {
  const cases: [string, string][] = [
    ['RUN echo', 'run is not a valid change command'],
    ['FROM busybox', 'from is not a valid change command'],
    ['ENV', 'ENV requires at least one argument'],
    ['EXPOSE abc', 'invalid containerPort: abc'],
    ['ONBUILD FROM x', "FROM isn't allowed as an ONBUILD trigger"],
    ['LABEL a="unterminated', `unmatched quote in 'a="unterminated'`],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => applyChanges({}, [change]), { status: 400, message }, change);
  }
});

test('splitWords', () => {
  assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
});

test('configs are written in dockerd field order, compact, Go-escaped', () => {
  const bytes = serializeImageConfig({
    comment: '<msg>',
    created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['sh'] },
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] },
    history: [{ created: '2024-01-01T00:00:00Z', comment: '<msg>' }],
  }).toString();
  assert.ok(
    bytes.startsWith(
      '{"comment":"\\u003cmsg\\u003e","created":"2024-01-01T00:00:00Z","container_config":{"Hostname":""',
    ),
  );
  assert.match(
    bytes,
    /"config":\{"Hostname":"",.*"Cmd":\["sh"\],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null\},"architecture":"amd64","os":"linux","rootfs":/,
  );
  assert.ok(bytes.endsWith('"history":[{"created":"2024-01-01T00:00:00Z","comment":"\\u003cmsg\\u003e"}]}'));
  assert.deepEqual(Object.keys(canonicalContainerConfig({ Labels: { b: '1', a: '2' } }).Labels ?? {}), [
    'a',
    'b',
  ]);
});

test('chain IDs and Go time format', () => {
  const a = `sha256:${'a'.repeat(64)}`;
  const b = `sha256:${'b'.repeat(64)}`;
  assert.deepEqual(chainIds([a, b]), [a, sha256(`${a} ${b}`)]);
  assert.equal(goTime(new Date('2024-01-01T00:00:00.120Z')), '2024-01-01T00:00:00.12Z');
  assert.equal(goTime(new Date('2024-01-01T00:00:00.000Z')), '2024-01-01T00:00:00Z');
});
