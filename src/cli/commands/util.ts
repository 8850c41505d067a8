// Helpers shared by the commands: filters, confirmation prompts, inspect output, JSON progress.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError, jsonLines } from '../../client/client.js';
import { renderOne } from '../format/format.js';
import {
  fullName,
  type ImageRef,
  InvalidReferenceError,
  parseReference,
  withDefaultTag,
} from '../reference.js';
import { CliError, type Ctx, type In, type Out } from './types.js';

/** `-f a=b -f a=c` → `{"a":{"b":true,"c":true}}` as the docker CLI encodes filters. */
export function filtersJson(list: string[], extra: Record<string, string[]> = {}): string | undefined {
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of list) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new CliError(`bad format of filter (expected name=value)`);
    const k = f.slice(0, eq).trim().toLowerCase();
    const v = f.slice(eq + 1);
    out[k] ??= {};
    (out[k] as Record<string, boolean>)[v] = true;
  }
  for (const [k, vs] of Object.entries(extra)) {
    out[k] ??= {};
    for (const v of vs) (out[k] as Record<string, boolean>)[v] = true;
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

/** Asks "[y/N]" on stdout and reads one line; true only for y/yes. */
export async function confirm(ctx: Ctx, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const line = await readLine(ctx.stdin);
  return /^\s*y(es)?\s*$/i.test(line);
}

function readLine(input: In): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (c: Buffer | string) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    };
    const onEnd = () => finish(buf);
    const finish = (s: string) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
      resolve(s);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

/** The daemon's JSON re-indented with 4 spaces, as `docker inspect` prints it (no HTML escapes). */
export function indentJson(v: unknown): string {
  return JSON.stringify(v, null, 4) ?? 'null';
}

/** Prints inspect results: a JSON array, or the template once per element. */
export function printInspect(ctx: Ctx, elements: unknown[], format: string): void {
  if (!format) {
    ctx.stdout.write(elements.length === 0 ? '[]\n' : `${indentJson(elements)}\n`);
    return;
  }
  if (elements.length === 0) ctx.stdout.write('\n');
  for (const el of elements) ctx.stdout.write(renderOne(format, el));
}

/** Go's message for a file that could not be opened: `open FILE: no such file or directory`. */
export function openErrorText(file: string, e: unknown): string {
  const reason =
    (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
  return `open ${file}: ${reason}`;
}

/** Why an inspect lookup found nothing: the line to print on stderr. */
export class InspectMiss extends Error {}

/**
 * The inspect commands: looks up each argument, prints what was found (JSON or --format), then
 * one stderr line per name not found (an InspectMiss, or a 404 from the daemon); 1 if any was.
 */
export async function inspectArgs(ctx: Ctx, lookup: (name: string) => Promise<unknown>): Promise<number> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of ctx.args) {
    try {
      found.push(await lookup(name));
    } catch (e) {
      if (e instanceof InspectMiss) errors.push(e.message);
      else if (isNotFound(e)) errors.push(`Error response from daemon: ${(e as ApiError).message}`);
      else throw e;
    }
  }
  printInspect(ctx, found, ctx.flags.string('format'));
  if (errors.length) {
    ctx.stderr.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** A reference as the user typed it, or docker's "Error parsing reference" message. */
export function parseRefOrFail(s: string): ImageRef {
  try {
    return parseReference(s);
  } catch (e) {
    if (e instanceof InvalidReferenceError)
      throw new CliError(`Error parsing reference: "${s}" is not a valid repository/tag: ${e.message}`);
    throw e;
  }
}

/** The repository and tag (default latest) that `tag` and `commit` write; digests are refused. */
export function tagTarget(s: string): { repo: string; tag: string | undefined } {
  const ref = withDefaultTag(parseRefOrFail(s));
  if (ref.digest) throw new CliError('refusing to create a tag with a digest reference');
  return { repo: fullName(ref), tag: ref.tag };
}

/** `save` and `export`: the archive goes to -o FILE or to stdout, but never to a terminal. */
export async function writeArchive(ctx: Ctx, open: () => Promise<Readable>): Promise<number> {
  const output = ctx.flags.string('output');
  if (!output && ctx.stdout.isTTY)
    throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const body = await open();
  if (output) await copyToFile(body, output);
  else await pipeToOut(body, ctx.stdout);
  return 0;
}

export interface JsonMessage {
  status?: string;
  id?: string;
  stream?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/**
 * Shows a JSON progress stream like docker's jsonmessage: `stream` text verbatim, `id: status`
 * lines (with the progress bar on a terminal, rewriting the line of each id), and fails on the
 * first error message.
 */
export async function displayProgress(
  body: Readable,
  out: Out,
  onAux?: (aux: unknown) => void,
): Promise<void> {
  const tty = Boolean(out.isTTY);
  const ids: string[] = [];
  for await (const m of jsonLines<JsonMessage>(body)) {
    if (m.errorDetail || m.error) {
      const msg = m.errorDetail?.message ?? m.error ?? 'unknown error';
      throw new CliError(msg, m.errorDetail?.code && m.errorDetail.code > 0 ? m.errorDetail.code : 1);
    }
    if (m.aux !== undefined) {
      onAux?.(m.aux);
      continue;
    }
    if (m.stream !== undefined) {
      out.write(m.stream);
      continue;
    }
    if (m.status === undefined) continue;
    const line = m.id ? `${m.id}: ${m.status}` : m.status;
    if (tty && m.id) {
      let idx = ids.indexOf(m.id);
      if (idx < 0) {
        ids.push(m.id);
        out.write(`${line}${m.progress ? ` ${m.progress}` : ''}\n`);
        continue;
      }
      const up = ids.length - idx;
      out.write(`\x1b[${up}A\r\x1b[2K${line}${m.progress ? ` ${m.progress}` : ''}\x1b[${up}B\r`);
      idx++;
      continue;
    }
    if (!tty && m.progress) continue;
    out.write(`${line}\n`);
  }
}

/** Writes a stream to `dest` through a temp file in the same directory, renamed at the end. */
export async function copyToFile(body: Readable, dest: string): Promise<void> {
  const dir = path.dirname(path.resolve(dest));
  const tmp = path.join(dir, `.${path.basename(dest)}.berth-${process.pid}-${Date.now()}`);
  const file = fs.createWriteStream(tmp);
  try {
    await new Promise<void>((resolve, reject) => {
      body.on('error', reject);
      file.on('error', reject);
      file.on('finish', resolve);
      body.pipe(file);
    });
    fs.renameSync(tmp, dest);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new CliError(`failed to save to ${dest}: ${(e as Error).message}`);
  }
}

/** Pipes a stream to stdout and waits for the end (without closing stdout). */
export function pipeToOut(body: Readable, out: Out): Promise<void> {
  return new Promise((resolve, reject) => {
    body.on('error', reject);
    body.on('end', resolve);
    body.pipe(out, { end: false });
  });
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

/** Runs `fn` for each argument, printing errors per argument like docker's multi-object commands. */
export async function forEachArg(
  ctx: Ctx,
  args: string[],
  fn: (arg: string) => Promise<void>,
): Promise<number> {
  const errs: string[] = [];
  for (const a of args) {
    try {
      await fn(a);
    } catch (e) {
      if (e instanceof ApiError) errs.push(`Error response from daemon: ${e.message}`);
      else if (e instanceof CliError) errs.push(e.message);
      else throw e;
    }
  }
  if (errs.length) {
    ctx.stderr.write(`${errs.join('\n')}\n`);
    return 1;
  }
  return 0;
}
