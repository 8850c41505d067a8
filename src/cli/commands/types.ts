// What every command handler gets and may throw.
import type { Readable, Writable } from 'node:stream';
import type { DockerClient } from '../../client/client.js';
import type { Flags } from '../flags.js';
import type { CommandSpec } from '../spec-types.js';

export interface Out extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface In extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

export interface Ctx {
  /** The path the user typed ("images", "image ls"). */
  invoked: string;
  spec: CommandSpec;
  flags: Flags;
  args: string[];
  /** The negotiated API client (pings on first use). */
  client(): Promise<DockerClient>;
  stdout: Out;
  stderr: Out;
  stdin: In;
  env: NodeJS.ProcessEnv;
}

export type Arity =
  | { kind: 'none' }
  | { kind: 'exact'; n: number }
  | { kind: 'min'; n: number }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'any' };

export interface CommandDef {
  path: string;
  arity: Arity;
  /** Commands that take a command line (run, exec) stop flag parsing at the first positional. */
  stopAtFirstArg?: boolean;
  run(ctx: Ctx): Promise<number | undefined>;
}

/** A failure the CLI reports itself: message to stderr (if any), then exit with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const none: Arity = { kind: 'none' };
export const any: Arity = { kind: 'any' };
export const exact = (n: number): Arity => ({ kind: 'exact', n });
export const min = (n: number): Arity => ({ kind: 'min', n });
export const range = (lo: number, hi: number): Arity => ({ kind: 'range', min: lo, max: hi });
