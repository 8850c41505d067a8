import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goString, sprintf, Template } from './template.js';

const run = (src: string, data: unknown) => new Template(src).execute(data);

test('fields, nested fields and missing keys', () => {
  const d = {
    Name: 'web',
    State: { Status: 'running', Pid: 42 },
    Labels: { b: '2', a: '1' },
    Cmd: ['sh', '-c'],
  };
  assert.equal(run('{{.Name}} {{.State.Status}} {{.State.Pid}}', d), 'web running 42');
  assert.equal(run('{{.Labels}}', d), 'map[a:1 b:2]');
  assert.equal(run('{{.Cmd}}', d), '[sh -c]');
  assert.equal(run('{{.Nope}}', d), '<no value>');
  assert.equal(run('{{.}}', 'x'), 'x');
});

test('json, index, len, printf and docker functions', () => {
  const d = { Labels: { 'com.x': 'y<z' }, Names: ['a', 'b'], S: 'Hello World' };
  assert.equal(run('{{json .Labels}}', d), '{"com.x":"y\\u003cz"}');
  assert.equal(run('{{index .Labels "com.x"}}', d), 'y<z');
  assert.equal(run('{{len .Names}}', d), '2');
  assert.equal(run('{{join .Names ","}}', d), 'a,b');
  assert.equal(run('{{.S | upper}} {{.S | lower}}', d), 'HELLO WORLD hello world');
  assert.equal(run('{{title "hello world"}}', d), 'Hello World');
  assert.equal(run('{{truncate .S 5}}|{{pad "x" 1 2}}|', d), 'Hello| x  |');
  assert.equal(run('{{split "a:b" ":"}}', d), '[a b]');
  assert.equal(run('{{printf "%-6s|%5.1f|%d|%q" "ab" 3.14159 7 "q"}}', d), 'ab    |  3.1|7|"q"');
  assert.equal(run('{{println "a" "b"}}', d), 'a b\n');
});

test('if / else if / else, with, range, variables and trimming', () => {
  const d = { A: 0, B: 'yes', L: ['x', 'y'], M: { k2: 'v2', k1: 'v1' }, E: [] };
  assert.equal(run('{{if .A}}a{{else if .B}}b{{else}}c{{end}}', d), 'b');
  assert.equal(run('{{with .B}}[{{.}}]{{end}}{{with .A}}no{{else}}else{{end}}', d), '[yes]else');
  assert.equal(run('{{range .L}}<{{.}}>{{end}}', d), '<x><y>');
  assert.equal(run('{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}', d), 'k1=v1;k2=v2;');
  assert.equal(run('{{range $i, $e := .L}}{{$i}}{{$e}} {{end}}', d), '0x 1y ');
  assert.equal(run('{{range .E}}x{{else}}empty{{end}}', d), 'empty');
  assert.equal(run('a  {{- " b " -}}  c', d), 'a b c');
  assert.equal(run('{{$x := .B}}{{$x}}{{$.B}}', d), 'yesyes');
  assert.equal(run('{{if and .B (not .A)}}ok{{end}}{{if or .A .B}}!{{end}}', d), 'ok!');
  assert.equal(
    run('{{if eq .B "no" "yes"}}eq{{end}}{{if ne .A 1}}ne{{end}}{{if lt 1 2}}lt{{end}}', d),
    'eqnelt',
  );
  assert.equal(run('{{(index .L 1)}}', d), 'y');
});

test('methods with arguments and getters', () => {
  const row = {
    get ID() {
      return 'abc';
    },
    Label(name: string) {
      return name === 'k' ? 'v' : '';
    },
  };
  assert.equal(run('{{.ID}} {{.Label "k"}}', row), 'abc v');
});

test('errors name the problem', () => {
  assert.throws(() => new Template('{{nosuch .X}}').execute({}), /function "nosuch" not defined/);
  assert.throws(() => new Template('{{if .X}}'), /unexpected EOF/);
  assert.throws(() => new Template('{{.X'), /unclosed action/);
});

test('value printing follows Go', () => {
  assert.equal(goString(null), '<nil>');
  assert.equal(goString(1.5), '1.5');
  assert.equal(goString(true), 'true');
  assert.equal(goString({ a: [1, null] }), 'map[a:[1 <nil>]]');
  assert.equal(sprintf('%s %v %%', ['a', 2]), 'a 2 %');
});
