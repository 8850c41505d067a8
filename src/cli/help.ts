// Help text laid out like docker's cobra templates: Usage, description, Aliases, Options (pflag's
// FlagUsagesWrapped column rules), Commands grouped like `docker --help`.
import type { CommandSpec, FlagSpec } from './spec-types.js';

export const PROG = 'berth';

function flagVarname(f: FlagSpec): string {
  if (f.type === 'bool') return '';
  const m = /`([^`]+)`/.exec(f.usage);
  if (m?.[1]) return m[1];
  switch (f.type) {
    case 'float64':
      return 'float';
    case 'int64':
      return 'int';
    case 'uint64':
      return 'uint';
    case 'stringSlice':
      return 'strings';
    default:
      return f.type;
  }
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap(): text into width `w`, continuation lines indented by `i`. */
function wrap(i: number, w: number, s: string): string {
  const indent = (n: number) => ' '.repeat(n);
  if (w === 0) return s.replaceAll('\n', `\n${indent(i)}`);
  let width = w - i;
  let r = '';
  if (width < 24) {
    i = 16;
    width = w - i;
    r += `\n${indent(i)}`;
  }
  if (width < 24) return s.replaceAll('\n', r);
  const slop = 5;
  width -= slop;
  let [l, rest] = wrapN(width, slop, s);
  r += l.replaceAll('\n', `\n${indent(i)}`);
  while (rest !== '') {
    [l, rest] = wrapN(width, slop, rest);
    r += `\n${indent(i)}${l.replaceAll('\n', `\n${indent(i)}`)}`;
  }
  return r;
}

/** The Options block, wrapped to `cols` like `pflag.FlagSet.FlagUsagesWrapped`. */
export function flagUsages(flags: FlagSpec[], cols: number): string {
  const visible = [...flags]
    .filter((f) => !f.hidden)
    .sort((a, b) => (a.long < b.long ? -1 : a.long > b.long ? 1 : 0));
  const lines: string[] = [];
  let maxlen = 0;
  for (const f of visible) {
    let line = f.short ? `  -${f.short}, --${f.long}` : `      --${f.long}`;
    const varname = flagVarname(f);
    if (varname) line += ` ${varname}`;
    line += '\x00';
    if (line.length > maxlen) maxlen = line.length;
    let usage = f.usage.replaceAll('`', '');
    if (f.def !== undefined) usage += ` (default ${f.def})`;
    lines.push(line + usage);
  }
  const out: string[] = [];
  for (const line of lines) {
    const sidx = line.indexOf('\x00');
    const spacing = ' '.repeat(maxlen - sidx);
    out.push(`${line.slice(0, sidx)} ${spacing} ${wrap(maxlen + 2, cols, line.slice(sidx + 1))}`);
  }
  return out.join('\n');
}

export function terminalColumns(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : 0;
  return (cols && cols > 0 ? cols : 80) - 1;
}

function rpad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function usageLine(invokedPath: string, spec: CommandSpec): string {
  return `${PROG} ${invokedPath}${spec.args ? ` ${spec.args}` : ''}`.trim();
}

export interface SubcommandEntry {
  name: string;
  desc: string;
}

/** `berth COMMAND --help` for a command that runs something. */
export function commandHelp(invokedPath: string, spec: CommandSpec, cols = terminalColumns()): string {
  let s = `Usage:  ${usageLine(invokedPath, spec)}\n\n${spec.desc.trim()}`;
  const aliases = [spec.path, ...(spec.aliases ?? [])];
  if (spec.aliases && spec.aliases.length > 0) {
    s += `\n\nAliases:\n  ${aliases.map((a) => `${PROG} ${a}`).join(', ')}`;
  }
  const flags = spec.flags.filter((f) => !f.hidden);
  if (flags.length > 0) s += `\n\nOptions:\n${flagUsages(flags, cols).replace(/\s+$/, '')}`;
  return `${s}\n`;
}

/** `berth image --help`: a management command lists its subcommands. */
export function groupHelp(path: string, desc: string, subs: SubcommandEntry[]): string {
  const list = subs.map((c) => `  ${rpad(c.name, 11)} ${summary(c.desc)}`).join('\n');
  return `Usage:  ${PROG} ${path} COMMAND\n\n${desc}\n\nCommands:\n${list}\n\nRun '${PROG} ${path} COMMAND --help' for more information on a command.\n`;
}

export interface RootGroups {
  common: SubcommandEntry[];
  management: SubcommandEntry[];
  commands: SubcommandEntry[];
}

export function rootHelp(groups: RootGroups, globalFlags: FlagSpec[], cols = terminalColumns()): string {
  const block = (title: string, items: SubcommandEntry[]) =>
    items.length
      ? `${title}:\n${items.map((c) => `  ${rpad(c.name, 11)} ${summary(c.desc)}`).join('\n')}\n\n`
      : '';
  return (
    `Usage:  ${PROG} [OPTIONS] COMMAND\n\nA self-sufficient runtime for containers\n\n` +
    block('Common Commands', groups.common) +
    block('Management Commands', groups.management) +
    block('Commands', groups.commands) +
    `Global Options:\n${flagUsages(globalFlags, cols)}\n\n` +
    `Run '${PROG} COMMAND --help' for more information on a command.\n`
  );
}

/** The first paragraph line of a description: command lists show only that (cobra's Short). */
function summary(desc: string): string {
  return desc.trim().split('\n')[0] ?? '';
}
