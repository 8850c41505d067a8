/**
 * The Dockerfile instructions `docker import -c` and `docker commit -c` accept
 * (dockerd's validCommitCommands), applied to a container config.
 */
import path from 'node:path';
import { badRequest } from '../util/errors.js';
import { parseGoDuration } from '../util/units.js';
import type { ContainerConfigJson } from './config.js';

const VALID = new Set([
  'cmd',
  'entrypoint',
  'healthcheck',
  'env',
  'expose',
  'label',
  'onbuild',
  'user',
  'volume',
  'workdir',
]);

/** Splits shell-like words: whitespace separates, quotes group, backslash escapes. */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw badRequest(`unmatched quote in '${s}'`);
  if (inWord) words.push(cur);
  return words;
}

/** `["a","b"]` → exec form; anything else is shell form. */
function parseJsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: shell form, like the Dockerfile parser
  }
  return undefined;
}

function commandForm(rest: string): string[] {
  return parseJsonArray(rest) ?? ['/bin/sh', '-c', rest];
}

/** `k=v k2="v 2"` or the legacy `k v w` → pairs. */
function keyValues(instr: string, rest: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw badRequest(`${instr} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw badRequest(`${instr} must have two arguments`);
    return [[m[1]!, splitWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw badRequest(`${instr} names can not be blank: '${w}'`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

function exposedPorts(rest: string): string[] {
  const out: string[] = [];
  for (const w of splitWords(rest)) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw badRequest(`invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    if (lo < 1 || hi > 65535 || hi < lo) throw badRequest(`invalid containerPort: ${w}`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

/**
 * Applies change instructions to a copy of `base`. 400 naming the instruction when one is
 * not allowed or malformed.
 */
export function applyChanges(base: ContainerConfigJson, changes: readonly string[]): ContainerConfigJson {
  const c: ContainerConfigJson = structuredClone(base);
  let cmdSet = false;
  for (const raw of changes) {
    for (const line of raw.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)!;
      const instr = m[1]!.toLowerCase();
      const rest = m[2]!.trim();
      if (!VALID.has(instr)) throw badRequest(`${instr} is not a valid change command`);
      const upper = instr.toUpperCase();
      if (rest === '' && instr !== 'cmd' && instr !== 'entrypoint') {
        throw badRequest(`${upper} requires at least one argument`);
      }
      switch (instr) {
        case 'cmd':
          c.Cmd = rest === '' ? null : commandForm(rest);
          cmdSet = true;
          break;
        case 'entrypoint':
          c.Entrypoint = rest === '' ? null : (parseJsonArray(rest) ?? ['/bin/sh', '-c', rest]);
          // As in a Dockerfile, a new ENTRYPOINT drops an inherited CMD.
          if (!cmdSet) c.Cmd = null;
          break;
        case 'env': {
          const env = [...(c.Env ?? [])];
          for (const [k, v] of keyValues(upper, rest)) {
            const i = env.findIndex((e) => e.split('=', 1)[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          c.Env = env;
          break;
        }
        case 'label': {
          const labels = { ...(c.Labels ?? {}) };
          for (const [k, v] of keyValues(upper, rest)) labels[k] = v;
          c.Labels = labels;
          break;
        }
        case 'expose': {
          const ports = { ...(c.ExposedPorts ?? {}) };
          for (const p of exposedPorts(rest)) ports[p] = {};
          c.ExposedPorts = ports;
          break;
        }
        case 'user':
          c.User = rest;
          break;
        case 'volume': {
          const vols = { ...(c.Volumes ?? {}) };
          for (const v of parseJsonArray(rest) ?? splitWords(rest)) {
            if (v.trim() === '') throw badRequest('VOLUME specified can not be an empty string');
            vols[v] = {};
          }
          c.Volumes = vols;
          break;
        }
        case 'workdir': {
          const wd = splitWords(rest).join(' ');
          c.WorkingDir = path.posix.isAbsolute(wd)
            ? path.posix.normalize(wd)
            : path.posix.join('/', c.WorkingDir ?? '', wd);
          break;
        }
        case 'onbuild': {
          const t = /^(\S+)/.exec(rest)![1]!.toUpperCase();
          if (t === 'ONBUILD') throw badRequest("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
          if (t === 'FROM' || t === 'MAINTAINER')
            throw badRequest(`${t} isn't allowed as an ONBUILD trigger`);
          c.OnBuild = [...(c.OnBuild ?? []), rest];
          break;
        }
        case 'healthcheck': {
          const { options, body } = healthcheckFlags(rest);
          const words = splitWords(body);
          const kind = (words[0] ?? '').toUpperCase();
          if (kind === 'NONE') c.Healthcheck = { Test: ['NONE'] };
          else if (kind === 'CMD') {
            const after = body.replace(/^\S+\s*/, '');
            const exec = parseJsonArray(after);
            c.Healthcheck = { ...options, Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', after] };
          } else throw badRequest(`Unknown type "${words[0] ?? ''}" in HEALTHCHECK (try CMD)`);
          break;
        }
      }
    }
  }
  return c;
}

const HEALTHCHECK_DURATIONS: Record<string, string> = {
  interval: 'Interval',
  timeout: 'Timeout',
  'start-period': 'StartPeriod',
  'start-interval': 'StartInterval',
};

/** HEALTHCHECK's leading `--interval=30s`-style flags, as Healthcheck fields (durations in ns). */
function healthcheckFlags(rest: string): { options: Record<string, number>; body: string } {
  const options: Record<string, number> = {};
  let body = rest.trim();
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(body); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(body)) {
    const [all, flag = '', value = ''] = m;
    body = body.slice(all.length);
    if (flag === 'retries') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < 1) throw badRequest(`--retries must be at least 1 (not ${value})`);
      options.Retries = n;
      continue;
    }
    const field = HEALTHCHECK_DURATIONS[flag];
    if (!field) throw badRequest(`Unknown flag: ${flag}`);
    let ms: number;
    try {
      ms = parseGoDuration(value);
    } catch {
      throw badRequest(`invalid duration for --${flag}: "${value}"`);
    }
    if (ms < 1) throw badRequest(`${field} "--${flag}" cannot be less than 1ms`);
    options[field] = Math.round(ms * 1e6);
  }
  return { options, body };
}
