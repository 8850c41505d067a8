/**
 * Runs external tools (runc, ip, iptables, ...). Every call is logged at debug level
 * with its command line, and a failure becomes a ToolError that carries the tool's
 * stderr, so callers can map it to a Docker-style message.
 */
import { execFile } from 'node:child_process';
import { logger } from './log.js';

const log = logger('exec');

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`${tool} ${args.join(' ')}: ${stderr.trim() || `exit code ${code}`}`);
    this.name = 'ToolError';
  }
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs `tool args...` to completion; rejects with ToolError on a non-zero exit. */
export function runTool(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  log.debug(`${tool} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = execFile(
      tool,
      args as string[],
      { timeout: opts.timeoutMs ?? 60_000, env: opts.env, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const code =
            typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
          reject(new ToolError(tool, args, code, String(stderr), String(stdout)));
          return;
        }
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
