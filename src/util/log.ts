/**
 * The daemon's own log: one line per message on stderr, with a level filter.
 * `BERTH_LOG_LEVEL` or berthd's `--log-level` set the threshold.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: LogLevel = (process.env.BERTH_LOG_LEVEL as LogLevel | undefined) ?? 'info';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

function write(level: LogLevel, part: string, message: string, fields?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  const extra = fields ? ` ${JSON.stringify(fields)}` : '';
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} [${part}] ${message}${extra}\n`);
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that tags every line with the part it comes from (`images`, `runtime`, ...). */
export function logger(part: string): Logger {
  return {
    debug: (m, f) => write('debug', part, m, f),
    info: (m, f) => write('info', part, m, f),
    warn: (m, f) => write('warn', part, m, f),
    error: (m, f) => write('error', part, m, f),
  };
}
