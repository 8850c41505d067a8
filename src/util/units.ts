// Human-readable sizes and durations, as docker/go-units prints and parses them. The CLI's tables
// must match docker's byte for byte, so the rounding follows Go's `%.Ng` formatting.

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's `%.{precision}g`: shortest form, no trailing zeros, exponent as e+NN. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  const fixed = value.toExponential(precision - 1);
  const [mantissa, expPart] = fixed.split('e');
  const exp = Number(expPart);
  if (exp < -4 || exp >= precision) {
    const m = stripZeros(mantissa ?? '');
    const sign = exp < 0 ? '-' : '+';
    const abs = Math.abs(exp);
    return `${m}e${sign}${abs < 10 ? `0${abs}` : abs}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exp)));
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

function sizeAndUnit(size: number, base: number, abbrs: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return [size, abbrs[i] ?? 'B'];
}

/** Decimal size with the given significant digits ("1.24MB" at precision 3). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [n, unit] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return `${formatG(n, precision)}${unit}`;
}

/** Decimal size with 4 significant digits ("2.746MB"). */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** Binary size with 4 significant digits ("1.5GiB"), as in `docker stats`. */
export function bytesSize(size: number): string {
  const [n, unit] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return `${formatG(n, 4)}${unit}`;
}

/**
 * go-units parseSize (v0.5, what docker 28 uses): a number, an optional space, then an optional
 * suffix b, k, kb, kib ... p, pib (case-insensitive). Errors read like docker's:
 * "invalid size: '-1'", "invalid suffix: 'q'".
 */
function parseSize(input: string, base: number): number {
  const sep = Math.max(...[...'0123456789. '].map((c) => input.lastIndexOf(c)));
  if (sep === -1) throw new Error(`invalid size: '${input}'`);
  const num = input[sep] === ' ' ? input.slice(0, sep) : input.slice(0, sep + 1);
  let sfx = input.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(num))
    throw new Error(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  const size = Number.parseFloat(num);
  if (size < 0) throw new Error(`invalid size: '${input}'`);
  if (sfx === '') return Math.trunc(size);
  const badSuffix = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw badSuffix();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw badSuffix();
    return Math.trunc(size);
  }
  const p = POWERS[sfx[0] ?? ''];
  if (p === undefined) throw badSuffix();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw badSuffix();
  return Math.trunc(size * base ** p);
}

const POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

/** `-m 200m` → 209715200 (binary multiples, case-insensitive, optional b). */
export function parseRamInBytes(input: string): number {
  return parseSize(input, 1024);
}

/** "44kB" → 44000 (decimal multiples). */
export function parseHumanSize(input: string): number {
  return parseSize(input, 1000);
}

/** Human approximation of a duration in milliseconds ("About a minute", "3 hours"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}

/** "2 minutes ago" for a point in time given in milliseconds since the epoch. */
export function timeAgo(whenMs: number, nowMs: number = Date.now()): string {
  return `${humanDuration(Math.max(0, nowMs - whenMs))} ago`;
}

/**
 * Go's time.ParseDuration ("1h30m", "500ms", "10s"); a plain number is rejected like Go does,
 * except "0". Returns milliseconds (fractions allowed).
 */
export function parseGoDuration(input: string): number {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60000,
    h: 3600000,
  };
  let s = input;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration "${input}"`);
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || m[1] === undefined || m[2] === undefined) {
      if (/^(\d+(?:\.\d*)?|\.\d+)$/.test(s)) throw new Error(`time: missing unit in duration "${input}"`);
      throw new Error(`time: invalid duration "${input}"`);
    }
    total += Number.parseFloat(m[1]) * (units[m[2]] ?? 0);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

/** Go's time.Duration.String() for milliseconds ("1m30s", "500ms", "0s"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out = '';
  if (rest < 1000) {
    out = `${formatG(rest, 10)}ms`;
  } else {
    const h = Math.trunc(rest / 3600000);
    rest -= h * 3600000;
    const m = Math.trunc(rest / 60000);
    rest -= m * 60000;
    const sec = stripZeros((rest / 1000).toFixed(9));
    if (h > 0) out = `${h}h${m}m${sec}s`;
    else if (m > 0) out = `${m}m${sec}s`;
    else out = `${sec}s`;
  }
  return neg ? `-${out}` : out;
}
