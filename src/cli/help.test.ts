import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { commandHelp } from './help.js';
import { COMMAND_SPECS } from './spec-data.js';

const spec = (path: string) => {
  const s = COMMAND_SPECS.find((c) => c.path === path);
  if (!s) throw new Error(path);
  return s;
};

test('images --help is laid out like docker 28 at 80 columns', () => {
  const expected = `Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]

List images

Aliases:
  berth image ls, berth image list, berth images

Options:
  -a, --all             Show all images (default hides intermediate images)
      --digests         Show digests
  -f, --filter filter   Filter output based on conditions provided
      --format string   Format output using a custom template:
                        'table':            Print output in table format
                        with column headers (default)
                        'table TEMPLATE':   Print output in table format
                        using the given Go template
                        'json':             Print in JSON format
                        'TEMPLATE':         Print output using the given
                        Go template.
                        Refer to https://docs.docker.com/go/formatting/
                        for more information about formatting output with
                        templates
      --no-trunc        Don't truncate output
  -q, --quiet           Only show image IDs
      --tree            List multi-platform images as a tree (EXPERIMENTAL)
`;
  assert.equal(commandHelp('images', spec('image ls'), 79), expected);
});

const hasDocker = spawnSync('docker', ['--version']).status === 0;

test('every command help matches docker 28 word for word', {
  skip: !hasDocker && 'docker CLI not installed',
}, () => {
  for (const c of COMMAND_SPECS) {
    if (c.path === '') continue;
    for (const invoked of [c.path, ...(c.aliases ?? [])]) {
      const docker = spawnSync('docker', [...invoked.split(' '), '--help'], {
        encoding: 'utf8',
        env: { ...process.env, COLUMNS: '80' },
      });
      const lines = docker.stdout.replaceAll('docker ', 'berth ').split('\n');
      lines[2] = (lines[2] ?? '').replaceAll('Docker', 'Berth');
      const expected = lines.join('\n');
      assert.equal(
        commandHelp(invoked.includes(' ') ? c.path : invoked, c, 79),
        expected,
        `berth ${invoked} --help`,
      );
    }
  }
});

test('command lists show one line per command, as docker does', () => {
  const root = spawnSync(
    process.execPath,
    [new URL('../../../bin/berth', import.meta.url).pathname, '--help'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(root.status, 0);
  assert.match(root.stdout, /^ {2}cp {10}Copy files\/folders between a container and the local filesystem$/m);
  assert.doesNotMatch(root.stdout, /Use '-' as the source/);
});
