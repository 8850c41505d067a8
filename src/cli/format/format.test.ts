import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONTAINER_HEADERS,
  ContainerRow,
  DEFAULT_CONTAINER_TABLE,
  DEFAULT_IMAGE_TABLE,
  displayablePorts,
  ellipsis,
  IMAGE_HEADERS,
  imageRows,
} from './contexts.js';
import { renderRows, resolveFormat } from './format.js';
import { tabwrite } from './tabwriter.js';

test('tabwriter pads columns like Go with minwidth 10 and padding 3', () => {
  assert.equal(
    tabwrite('A\tBB\tC\nlonger-cell-here\tx\ty\n'),
    'A                  BB        C\nlonger-cell-here   x         y\n',
  );
  // a line without tabs ends the column block
  assert.equal(tabwrite('a\tb\nplain\nccc\td\n'), 'a         b\nplain\nccc       d\n');
});

const now = Math.floor(Date.now() / 1000);

test('images table: one row per repository tag, dangling as <none>', () => {
  const images = [
    {
      Id: 'sha256:ba89dd694a7b12fe632f86befaa577ea79be278b207d57ac30c9006631120b51',
      RepoTags: ['busybox:latest', 'localhost:5000/x/y:v1'],
      RepoDigests: ['busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111'],
      Created: now - 120,
      Size: 1982000,
      SharedSize: -1,
      Containers: -1,
    },
    {
      Id: 'sha256:aaaabbbbccccdddd',
      RepoTags: null,
      RepoDigests: null,
      Created: now - 7200,
      Size: 0,
      SharedSize: -1,
      Containers: -1,
    },
  ];
  const out = renderRows(
    resolveFormat('', DEFAULT_IMAGE_TABLE),
    imageRows(images, true, false),
    IMAGE_HEADERS,
  );
  assert.equal(
    out,
    'REPOSITORY           TAG       IMAGE ID       CREATED         SIZE\n' +
      'busybox              latest    ba89dd694a7b   2 minutes ago   1.98MB\n' +
      'localhost:5000/x/y   v1        ba89dd694a7b   2 minutes ago   1.98MB\n' +
      '<none>               <none>    aaaabbbbcccc   2 hours ago     0B\n',
  );
  const json = renderRows('{{json .}}', imageRows(images, true, true).slice(0, 1), IMAGE_HEADERS);
  assert.match(
    json,
    /^\{"Containers":"N\/A","CreatedAt":"[^"]+","CreatedSince":"2 minutes ago","Digest":"sha256:1{64}","ID":"ba89dd694a7b","Repository":"busybox","SharedSize":"N\/A","Size":"1.98MB","Tag":"latest","UniqueSize":"N\/A","VirtualSize":"1.982MB"\}\n$/,
  );
});

test('container rows: quoted, truncated command, names, ports, labels', () => {
  const c = {
    Id: 'bcb1b57d6b194b0ff3ae7c8e1c933e3499d3f1749e2b8e2937338e337f22ad8f',
    Names: ['/s1'],
    Image: 'busybox',
    ImageID: 'sha256:ba89dd694a7b',
    Command: "sh -c 'echo started; sleep 1000'",
    Created: now - 5,
    Ports: [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
      { PrivatePort: 444, Type: 'tcp' },
    ],
    Labels: { b: '2', a: '1' },
    State: 'running',
    Status: 'Up 5 seconds',
  };
  const row = new ContainerRow(c, true);
  assert.equal(row.Command, '"sh -c \'echo started…"');
  assert.equal(row.Ports, '443-444/tcp, 0.0.0.0:8080->80/tcp');
  assert.equal(row.Labels, 'a=1,b=2');
  assert.equal(row.Label('a'), '1');
  const out = renderRows(DEFAULT_CONTAINER_TABLE, [row], CONTAINER_HEADERS);
  assert.equal(
    out.split('\n')[0],
    'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                               NAMES',
  );
  assert.equal(
    renderRows('table {{.Names}}\t{{.Label "com.example.my-label"}}', [row], CONTAINER_HEADERS).split(
      '\n',
    )[0],
    'NAMES     my label',
  );
});

test('ports and ellipsis helpers', () => {
  assert.equal(displayablePorts([]), '');
  assert.equal(
    displayablePorts([{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }]),
    '0.0.0.0:80->80/tcp',
  );
  assert.equal(
    displayablePorts([{ IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }]),
    '[::]:8080->80/tcp',
  );
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
});
