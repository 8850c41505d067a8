// A subset of Go's text/template, enough for docker's --format: fields (`.A.B`), `$` variables,
// pipelines, parentheses, if/else if/else, range (with `$k, $v :=`), with, `{{-`/`-}}` trimming,
// Go's builtins (index, len, printf, print, println, eq, ne, lt, le, gt, ge, and, or, not, slice)
// and docker's (json, join, split, lower, upper, title, pad, truncate, table is handled by the
// caller). Values print the way Go's fmt %v prints decoded JSON.
import { goJson } from './go-json.js';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Tok =
  | { t: 'field'; v: string[] }
  | { t: 'var'; v: string; chain: string[] }
  | { t: 'ident'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'lp' }
  | { t: 'rp'; chain: string[] }
  | { t: 'pipe' }
  | { t: 'decl' }
  | { t: 'assign' }
  | { t: 'comma' };

type Operand =
  | { k: 'field'; chain: string[] }
  | { k: 'var'; name: string; chain: string[] }
  | { k: 'ident'; name: string }
  | { k: 'lit'; value: unknown }
  | { k: 'sub'; pipe: Pipeline; chain: string[] };

interface Pipeline {
  decl: string[];
  cmds: Operand[][];
}

type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipeline }
  | { k: 'if'; branches: { pipe: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { k: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { k: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const chainAt = (): string[] => {
    const chain: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      chain.push(m?.[0] ?? '');
      i += m?.[0].length ?? 0;
    }
    return chain;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) toks.push({ t: 'field', v: chainAt() });
      else {
        i++;
        toks.push({ t: 'field', v: [] });
      }
    } else if (c === '$') {
      i++;
      const m = /^[A-Za-z0-9_]*/.exec(src.slice(i));
      const name = m?.[0] ?? '';
      i += name.length;
      toks.push({ t: 'var', v: `$${name}`, chain: chainAt() });
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      toks.push({ t: 'str', v: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      toks.push({ t: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'") {
      const m = /^'(\\.|[^'])'/.exec(src.slice(i));
      if (!m) throw new TemplateError('malformed character constant');
      toks.push({ t: 'num', v: (JSON.parse(`"${m[1]}"`) as string).codePointAt(0) ?? 0 });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (/[-+]/.test(c) && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(src.slice(i));
      if (!m) throw new TemplateError(`bad number syntax: "${src.slice(i)}"`);
      toks.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (c === '(') {
      toks.push({ t: 'lp' });
      i++;
    } else if (c === ')') {
      i++;
      toks.push({ t: 'rp', chain: chainAt() });
    } else if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
    } else if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: 'decl' });
      i += 2;
    } else if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
    } else if (c === ',') {
      toks.push({ t: 'comma' });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      const word = m?.[0] ?? '';
      toks.push({ t: 'ident', v: word });
      i += word.length;
    } else {
      throw new TemplateError(`unexpected "${c}" in command`);
    }
  }
  return toks;
}

class PipeParser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  parse(): Pipeline {
    const p = this.pipeline();
    if (this.pos < this.toks.length)
      throw new TemplateError(`unexpected ${this.toks[this.pos]?.t} in operand`);
    return p;
  }

  private pipeline(): Pipeline {
    const decl: string[] = [];
    // `$x := ...` or `$k, $v := ...`
    const save = this.pos;
    const vars: string[] = [];
    while (this.toks[this.pos]?.t === 'var') {
      vars.push((this.toks[this.pos] as { v: string }).v);
      this.pos++;
      if (this.toks[this.pos]?.t === 'comma') this.pos++;
      else break;
    }
    const after = this.toks[this.pos]?.t;
    if (vars.length > 0 && (after === 'decl' || after === 'assign')) {
      this.pos++;
      decl.push(...vars);
    } else this.pos = save;
    const cmds: Operand[][] = [];
    for (;;) {
      const cmd: Operand[] = [];
      while (this.pos < this.toks.length) {
        const t = this.toks[this.pos] as Tok;
        if (t.t === 'pipe' || t.t === 'rp') break;
        cmd.push(this.operand());
      }
      if (cmd.length === 0) throw new TemplateError('missing value for command');
      cmds.push(cmd);
      if (this.toks[this.pos]?.t === 'pipe') {
        this.pos++;
        continue;
      }
      break;
    }
    return { decl, cmds };
  }

  private operand(): Operand {
    const t = this.toks[this.pos++] as Tok;
    switch (t.t) {
      case 'field':
        return { k: 'field', chain: t.v };
      case 'var':
        return { k: 'var', name: t.v, chain: t.chain };
      case 'str':
        return { k: 'lit', value: t.v };
      case 'num':
        return { k: 'lit', value: t.v };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', value: t.v === 'true' };
        if (t.v === 'nil') return { k: 'lit', value: null };
        return { k: 'ident', name: t.v };
      case 'lp': {
        const pipe = this.pipeline();
        const close = this.toks[this.pos++];
        if (close?.t !== 'rp') throw new TemplateError('unclosed left paren');
        return { k: 'sub', pipe, chain: close.chain };
      }
      default:
        throw new TemplateError(`unexpected ${t.t} in operand`);
    }
  }
}

function parsePipeline(src: string): Pipeline {
  return new PipeParser(lex(src)).parse();
}

/** Splits template text into text and actions, applying `{{-` / `-}}` trimming. */
function tokenizeTemplate(src: string): ({ text: string } | { action: string })[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) parts.push({ text });
      break;
    }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push({ text });
    // find the closing }} outside quotes
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (c === '"') {
        j++;
        while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
        j++;
      } else if (c === '`') {
        j = src.indexOf('`', j + 1) + 1;
        if (j === 0) break;
      } else if (src.startsWith('}}', j)) {
        close = j;
        break;
      } else j++;
    }
    if (close < 0) throw new TemplateError('unclosed action');
    let inner = src.slice(start, close);
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      trimNext = true;
    }
    parts.push({ action: inner.trim() });
    i = close + 2;
  }
  return parts;
}

function parseNodes(src: string): Node[] {
  const parts = tokenizeTemplate(src);
  let pos = 0;
  const block = (stopAt: string[]): { nodes: Node[]; stop: string; arg: string } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const p = parts[pos++] as { text: string } | { action: string };
      if ('text' in p) {
        nodes.push({ k: 'text', text: p.text });
        continue;
      }
      const a = p.action;
      if (a.startsWith('/*')) continue;
      const word = /^[a-z]+/.exec(a)?.[0] ?? '';
      const rest = a.slice(word.length).trim();
      if (stopAt.includes(word)) return { nodes, stop: word, arg: rest };
      if (word === 'if') {
        const branches: { pipe: Pipeline; body: Node[] }[] = [];
        let cond = rest;
        let otherwise: Node[] = [];
        for (;;) {
          const b = block(['else', 'end']);
          branches.push({ pipe: parsePipeline(cond), body: b.nodes });
          if (b.stop === 'end') break;
          if (b.arg.startsWith('if ')) {
            cond = b.arg.slice(3);
            continue;
          }
          otherwise = block(['end']).nodes;
          break;
        }
        nodes.push({ k: 'if', branches, otherwise });
      } else if (word === 'range' || word === 'with') {
        const b = block(['else', 'end']);
        const otherwise = b.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ k: word, pipe: parsePipeline(rest), body: b.nodes, otherwise });
      } else if (word === 'end' || word === 'else') {
        throw new TemplateError(`unexpected {{${word}}}`);
      } else if (
        ['define', 'template', 'block', 'break', 'continue'].includes(word) &&
        !a.startsWith(`${word}(`)
      ) {
        throw new TemplateError(`{{${word}}} is not supported`);
      } else {
        nodes.push({ k: 'action', pipe: parsePipeline(a) });
      }
    }
    if (stopAt.length > 0) throw new TemplateError('unexpected EOF');
    return { nodes, stop: '', arg: '' };
  };
  return block([]).nodes;
}

/** Go's truthiness: false, 0, nil, and empty strings, arrays and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** fmt's %v of a decoded JSON value. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
    return goFloat(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(inner).join(' ')}]`;
  if (typeof v === 'object') {
    if (
      typeof (v as { toString?: unknown }).toString === 'function' &&
      (v as object).toString !== Object.prototype.toString
    ) {
      return String(v);
    }
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${inner((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function inner(v: unknown): string {
  return v === null || v === undefined ? '<nil>' : goString(v);
}

function goFloat(v: number): string {
  // %v for float64 is %g with the shortest representation
  const s = String(v);
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return s;
}

/** A minimal fmt.Sprintf: %s %v %d %q %f %x %t %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(
    /%([-+# 0]*)(\d+)?(?:\.(\d+))?([svdqfxXtgeTc%])/g,
    (_m, flags: string, width?: string, prec?: string, verb?: string) => {
      if (verb === '%') return '%';
      if (ai >= args.length) return `%!${verb}(MISSING)`;
      const a = args[ai++];
      let s: string;
      switch (verb) {
        case 'd':
          s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeof a}=${goString(a)})`;
          break;
        case 'f':
          s =
            typeof a === 'number'
              ? a.toFixed(prec === undefined ? 6 : Number(prec))
              : `%!f(${typeof a}=${goString(a)})`;
          break;
        case 'g':
        case 'e':
          s = typeof a === 'number' ? goFloat(a) : goString(a);
          break;
        case 'q':
          s = goJson(typeof a === 'string' ? a : goString(a));
          break;
        case 'x':
        case 'X':
          s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex');
          if (verb === 'X') s = s.toUpperCase();
          break;
        case 'c':
          s = typeof a === 'number' ? String.fromCodePoint(a) : goString(a);
          break;
        case 'T':
          s =
            typeof a === 'string'
              ? 'string'
              : typeof a === 'number'
                ? 'float64'
                : typeof a === 'boolean'
                  ? 'bool'
                  : 'map[string]interface {}';
          break;
        default:
          s = goString(a);
          if (prec !== undefined && (verb === 's' || verb === 'v'))
            s = [...s].slice(0, Number(prec)).join('');
      }
      const w = width ? Number(width) : 0;
      const len = [...s].length;
      if (len < w) {
        const pad = (flags.includes('0') && !flags.includes('-') ? '0' : ' ').repeat(w - len);
        s = flags.includes('-') ? s + ' '.repeat(w - len) : pad + s;
      }
      return s;
    },
  );
}

type Fn = (...args: unknown[]) => unknown;

function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError('incompatible types for comparison');
}

function titleCase(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

const BUILTINS: Record<string, Fn> = {
  json: (v) => goJson(v),
  join: (arr, sep) => (Array.isArray(arr) ? arr.map(goString).join(String(sep)) : goString(arr)),
  split: (s, sep) => String(s).split(String(sep)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  title: (s) => titleCase(goString(s)),
  pad: (s, before, after) => ' '.repeat(Number(before)) + goString(s) + ' '.repeat(Number(after)),
  truncate: (s, n) => {
    const chars = [...goString(s)];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : chars.join('');
  },
  len: (v) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateError(`len of type ${typeof v}`);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new TemplateError('index of untyped nil');
      if (Array.isArray(cur)) {
        const n = Number(k);
        if (n < 0 || n >= cur.length) throw new TemplateError(`index out of range: ${n}`);
        cur = cur[n];
      } else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)];
      else throw new TemplateError(`can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  slice: (v, ...idx) => {
    const [a, b] = idx.map(Number);
    if (typeof v === 'string' || Array.isArray(v)) return v.slice(a ?? 0, b);
    throw new TemplateError("can't slice item");
  },
  printf: (fmt, ...args) => sprintf(String(fmt), args),
  print: (...args) => args.map(goString).join(''),
  println: (...args) => `${args.map(goString).join(' ')}\n`,
  not: (v) => !truthy(v),
  // and/or short-circuit in Template.andOr; these entries only make the names known
  and: (...args) => args[args.length - 1],
  or: (...args) => args[args.length - 1],
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  html: (s) => goString(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  urlquery: (s) => encodeURIComponent(goString(s)),
};

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

function field(v: unknown, name: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') throw new TemplateError(`can't evaluate field ${name} in type ${typeof v}`);
  const value = (v as Record<string, unknown>)[name];
  if (typeof value === 'function') return (value as Fn).call(v);
  return value;
}

function chainOf(v: unknown, chain: string[]): unknown {
  let cur = v;
  for (const name of chain) cur = field(cur, name);
  return cur;
}

export class Template {
  private readonly nodes: Node[];

  constructor(
    readonly source: string,
    private readonly funcs: Record<string, Fn> = {},
  ) {
    this.nodes = parseNodes(source);
  }

  execute(data: unknown): string {
    const out: string[] = [];
    const scope: Scope = { dot: data, vars: new Map([['$', data]]) };
    this.run(this.nodes, scope, out);
    return out.join('');
  }

  private run(nodes: Node[], scope: Scope, out: string[]): void {
    for (const n of nodes) {
      switch (n.k) {
        case 'text':
          out.push(n.text);
          break;
        case 'action': {
          const v = this.pipe(n.pipe, scope);
          if (n.pipe.decl.length === 0) out.push(goString(v));
          break;
        }
        case 'if': {
          let done = false;
          for (const b of n.branches) {
            if (truthy(this.pipe(b.pipe, scope))) {
              this.run(b.body, { dot: scope.dot, vars: new Map(scope.vars) }, out);
              done = true;
              break;
            }
          }
          if (!done) this.run(n.otherwise, scope, out);
          break;
        }
        case 'with': {
          const v = this.pipe({ decl: [], cmds: n.pipe.cmds }, scope);
          if (truthy(v)) this.run(n.body, { dot: v, vars: new Map(scope.vars) }, out);
          else this.run(n.otherwise, scope, out);
          break;
        }
        case 'range': {
          const v = this.pipe({ decl: [], cmds: n.pipe.cmds }, scope);
          const entries: [unknown, unknown][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : v && typeof v === 'object'
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, (v as Record<string, unknown>)[k]])
              : typeof v === 'number'
                ? Array.from({ length: v }, (_x, i) => [i, i])
                : [];
          if (entries.length === 0) {
            this.run(n.otherwise, scope, out);
            break;
          }
          for (const [k, x] of entries) {
            const vars = new Map(scope.vars);
            const d = n.pipe.decl;
            if (d.length === 1 && d[0]) vars.set(d[0], x);
            if (d.length === 2 && d[0] && d[1]) {
              vars.set(d[0], k);
              vars.set(d[1], x);
            }
            this.run(n.body, { dot: x, vars }, out);
          }
          break;
        }
      }
    }
  }

  private pipe(p: Pipeline, scope: Scope): unknown {
    let value: unknown;
    let first = true;
    for (const cmd of p.cmds) {
      value = this.command(cmd, scope, first ? undefined : { v: value });
      first = false;
    }
    for (const name of p.decl) scope.vars.set(name, value);
    return value;
  }

  private command(cmd: Operand[], scope: Scope, piped?: { v: unknown }): unknown {
    const head = cmd[0] as Operand;
    const rest = cmd.slice(1).map((o) => this.operand(o, scope));
    if (piped) rest.push(piped.v);
    if (head.k === 'ident') {
      const fn = this.funcs[head.name] ?? BUILTINS[head.name];
      if (!fn) throw new TemplateError(`function "${head.name}" not defined`);
      if (head.name === 'and') return this.andOr(cmd.slice(1), scope, piped, true);
      if (head.name === 'or') return this.andOr(cmd.slice(1), scope, piped, false);
      return fn(...rest);
    }
    if (head.k === 'field' && head.chain.length > 0 && rest.length > 0) {
      // a method call with arguments, like {{.Label "com.example"}}
      const owner = chainOf(scope.dot, head.chain.slice(0, -1));
      const name = head.chain[head.chain.length - 1] as string;
      const m = owner && typeof owner === 'object' ? (owner as Record<string, unknown>)[name] : undefined;
      if (typeof m !== 'function')
        throw new TemplateError(`can't give argument to non-function .${head.chain.join('.')}`);
      return (m as Fn).apply(owner, rest);
    }
    if (rest.length > 0) throw new TemplateError(`can't give argument to non-function`);
    return this.operand(head, scope);
  }

  private andOr(ops: Operand[], scope: Scope, piped: { v: unknown } | undefined, isAnd: boolean): unknown {
    const values: (() => unknown)[] = ops.map((o) => () => this.operand(o, scope));
    if (piped) values.push(() => piped.v);
    let last: unknown;
    for (const get of values) {
      last = get();
      if (isAnd ? !truthy(last) : truthy(last)) return last;
    }
    return last;
  }

  private operand(o: Operand, scope: Scope): unknown {
    switch (o.k) {
      case 'lit':
        return o.value;
      case 'field':
        return chainOf(scope.dot, o.chain);
      case 'var': {
        if (!scope.vars.has(o.name)) throw new TemplateError(`undefined variable "${o.name}"`);
        return chainOf(scope.vars.get(o.name), o.chain);
      }
      case 'sub':
        return chainOf(this.pipe(o.pipe, scope), o.chain);
      case 'ident': {
        const fn = this.funcs[o.name] ?? BUILTINS[o.name];
        if (!fn) throw new TemplateError(`function "${o.name}" not defined`);
        return fn();
      }
    }
  }
}
