// A pflag-like parser for docker's flag syntax: `--name value`, `--name=value`, `-n value`,
// `-nvalue`, combined bool shorts (`-dit`), repeated flags, `--` terminator, and (for commands
// that take a command line, such as run and exec) no flags after the first positional.
import { parseGoDuration, parseRamInBytes } from '../util/units.js';
import type { FlagSpec } from './spec-types.js';

/** A flag error: docker prints it with the usage line and exits 125. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

const MULTI_TYPES = new Set([
  'list',
  'stringArray',
  'strings',
  'filter',
  'map',
  'ulimit',
  'mount',
  'network',
  'gpu-request',
  'stringSlice',
]);

export function isMulti(f: FlagSpec): boolean {
  return MULTI_TYPES.has(f.type);
}

export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function flagLabel(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.long}` : `--${f.long}`;
}

/** Go's strconv-style validation of a value for the flag's type; returns the stored string. */
function validate(f: FlagSpec, value: string): void {
  const bad = (why: string) =>
    new FlagError(`invalid argument "${value}" for "${flagLabel(f)}" flag: ${why}`);
  switch (f.type) {
    case 'int':
    case 'int64':
    case 'uint':
    case 'uint16':
    case 'uint64': {
      const signed = f.type.startsWith('int');
      const fn = signed ? 'strconv.ParseInt' : 'strconv.ParseUint';
      if (!(signed ? /^[+-]?\d+$/ : /^\+?\d+$/).test(value))
        throw bad(`${fn}: parsing "${value}": invalid syntax`);
      if (f.type === 'uint16' && Number(value) > 65535)
        throw bad(`${fn}: parsing "${value}": value out of range`);
      return;
    }
    case 'decimal':
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value))
        throw bad(`strconv.ParseFloat: parsing "${value}": invalid syntax`);
      return;
    case 'duration':
      try {
        parseGoDuration(value);
      } catch (e) {
        throw bad((e as Error).message);
      }
      return;
    case 'bytes':
      if (value === '-1' && f.long === 'memory-swap') return;
      try {
        parseRamInBytes(value);
      } catch (e) {
        throw bad((e as Error).message);
      }
      return;
    default:
      return;
  }
}

export class Flags {
  private readonly values = new Map<string, string[]>();
  private readonly byLong = new Map<string, FlagSpec>();

  constructor(readonly specs: FlagSpec[]) {
    for (const s of specs) this.byLong.set(s.long, s);
  }

  /** Records one occurrence (already validated). */
  add(long: string, value: string): void {
    const list = this.values.get(long) ?? [];
    list.push(value);
    this.values.set(long, list);
  }

  spec(long: string): FlagSpec {
    const s = this.byLong.get(long);
    if (!s) throw new Error(`flag --${long} is not defined for this command`);
    return s;
  }

  changed(long: string): boolean {
    return this.values.has(long);
  }

  bool(long: string): boolean {
    const s = this.spec(long);
    const v = this.values.get(long);
    if (!v) return s.def === 'true';
    return parseGoBool(v[v.length - 1] ?? '') ?? false;
  }

  /** Last value given, else the default (quotes of docker's help text removed), else "". */
  string(long: string): string {
    const s = this.spec(long);
    const v = this.values.get(long);
    if (v && v.length > 0) return v[v.length - 1] ?? '';
    if (s.def === undefined) return '';
    return s.def.startsWith('"') ? (JSON.parse(s.def) as string) : s.def;
  }

  /** Optional string: undefined when the flag was not given. */
  opt(long: string): string | undefined {
    return this.changed(long) ? this.string(long) : undefined;
  }

  int(long: string): number {
    const v = this.string(long);
    return v === '' ? 0 : Number.parseInt(v, 10);
  }

  /** Float ("decimal" type, e.g. --cpus). */
  float(long: string): number {
    const v = this.string(long);
    return v === '' ? 0 : Number.parseFloat(v);
  }

  /** Bytes flags (-m 200m); 0 when unset. */
  bytes(long: string): number {
    const v = this.string(long);
    if (v === '' || v === '0') return 0;
    if (v === '-1') return -1;
    return parseRamInBytes(v);
  }

  /** Duration flags in milliseconds. */
  duration(long: string): number {
    const v = this.string(long);
    return v === '' ? 0 : parseGoDuration(v);
  }

  /** Every value of a repeated flag; "strings" flags are also split on commas. */
  list(long: string): string[] {
    const s = this.spec(long);
    const v = this.values.get(long) ?? [];
    if (s.type === 'strings' || s.type === 'stringSlice')
      return v.flatMap((x) => x.split(',')).filter((x) => x !== '');
    return [...v];
  }
}

export interface ParseOptions {
  /** false: the first positional ends flag parsing (run IMAGE CMD --flags-for-cmd). */
  interspersed?: boolean;
}

export interface ParseResult {
  flags: Flags;
  args: string[];
  /** `-h`/`--help` seen. */
  help: boolean;
}

export function parseFlags(specs: FlagSpec[], argv: string[], opts: ParseOptions = {}): ParseResult {
  const interspersed = opts.interspersed ?? true;
  const flags = new Flags(specs);
  const longs = new Map(specs.map((s) => [s.long, s]));
  const shorts = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const hasHelp = longs.has('help');
  const args: string[] = [];
  let help = false;

  const set = (f: FlagSpec, value: string) => {
    if (f.type === 'bool') {
      if (parseGoBool(value) === undefined) {
        throw new FlagError(
          `invalid argument "${value}" for "${flagLabel(f)}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
        );
      }
    } else validate(f, value);
    flags.add(f.long, value);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (name === 'help' && !hasHelp) {
        help = true;
        continue;
      }
      const f = longs.get(name);
      if (!f) throw new FlagError(`unknown flag: --${name}`);
      if (name === 'help') {
        help = true;
        continue;
      }
      if (eq >= 0) set(f, a.slice(eq + 1));
      else if (f.type === 'bool') set(f, 'true');
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        i++;
        set(f, argv[i] as string);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j] as string;
        if (c === 'h' && !shorts.has('h')) {
          help = true;
          continue;
        }
        const f = shorts.get(c);
        if (!f) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
        if (f.type === 'bool') {
          if (a[j + 1] === '=') {
            set(f, a.slice(j + 2));
            break;
          }
          set(f, 'true');
          continue;
        }
        let value = a.slice(j + 1);
        if (value.startsWith('=')) value = value.slice(1);
        else if (value === '') {
          if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in ${a}`);
          i++;
          value = argv[i] as string;
        }
        set(f, value);
        break;
      }
      continue;
    }
    if (!interspersed) {
      args.push(...argv.slice(i));
      break;
    }
    args.push(a);
  }
  return { flags, args, help };
}
