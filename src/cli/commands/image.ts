// Image commands: images/image ls, image inspect, tag, rmi, history, save, load, import, image prune.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { ApiError } from '../../client/client.js';
import { humanSize } from '../../util/units.js';
import {
  DEFAULT_HISTORY_TABLE,
  DEFAULT_IMAGE_TABLE,
  DEFAULT_IMAGE_TABLE_DIGEST,
  HISTORY_HEADERS,
  type HistoryItem,
  HistoryRow,
  IMAGE_HEADERS,
  type ImageSummary,
  imageRows,
  NON_HUMAN_HISTORY_TABLE,
} from '../format/contexts.js';
import { isTable, renderRows, resolveFormat } from '../format/format.js';
import { CliError, type CommandDef, type Ctx, exact, min, none, range } from './types.js';
import {
  confirm,
  displayProgress,
  filtersJson,
  inspectArgs,
  openErrorText,
  parseRefOrFail,
  tagTarget,
  writeArchive,
} from './util.js';

async function imagesList(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const extra: Record<string, string[]> = {};
  if (ctx.args[0]) extra.reference = [ctx.args[0]];
  const client = await ctx.client();
  const images = await client.get<ImageSummary[]>('/images/json', {
    all: f.bool('all') ? true : undefined,
    filters: filtersJson(f.list('filter'), extra),
  });
  const quiet = f.bool('quiet');
  const digests = f.bool('digests');
  let format = f.string('format');
  if (format === '' || format === 'table') {
    format = resolveFormat(format, digests ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE, quiet);
  } else {
    format = resolveFormat(format, DEFAULT_IMAGE_TABLE);
    if (isTable(format) && digests && !format.includes('{{.Digest}}')) format += '\t{{.Digest}}';
  }
  const needDigest = digests || format.includes('{{.Digest}}');
  const rows = imageRows(images ?? [], !f.bool('no-trunc'), needDigest);
  ctx.stdout.write(renderRows(format, rows, IMAGE_HEADERS));
  return 0;
}

async function imageInspect(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  return inspectArgs(ctx, (name) => client.get(`/images/${name}/json`));
}

async function tag(ctx: Ctx): Promise<number> {
  const [source, target] = ctx.args as [string, string];
  const { repo, tag } = tagTarget(target);
  const client = await ctx.client();
  await client.request('POST', `/images/${source}/tag`, { query: { repo, tag } });
  return 0;
}

async function rmi(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const force = ctx.flags.bool('force');
  const errs: string[] = [];
  let fatal = false;
  for (const name of ctx.args) {
    try {
      const res = await client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${name}`, {
        query: { force: force ? true : undefined, noprune: ctx.flags.bool('no-prune') ? true : undefined },
      });
      for (const d of res ?? []) {
        if (d.Deleted) ctx.stdout.write(`Deleted: ${d.Deleted}\n`);
        else if (d.Untagged) ctx.stdout.write(`Untagged: ${d.Untagged}\n`);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status !== 404) fatal = true;
      errs.push(`Error response from daemon: ${e.message}`);
    }
  }
  if (errs.length) {
    ctx.stderr.write(`${errs.join('\n')}\n`);
    if (!force || fatal) return 1;
  }
  return 0;
}

async function history(ctx: Ctx): Promise<number> {
  const client = await ctx.client();
  const items = await client.get<HistoryItem[]>(`/images/${ctx.args[0]}/history`);
  const f = ctx.flags;
  const human = f.bool('human');
  let format = f.string('format');
  if (format === '' || format === 'table') {
    format = f.bool('quiet') ? '{{.ID}}' : human ? DEFAULT_HISTORY_TABLE : NON_HUMAN_HISTORY_TABLE;
  } else format = resolveFormat(format, DEFAULT_HISTORY_TABLE);
  const rows = (items ?? []).map((h) => new HistoryRow(h, !f.bool('no-trunc'), human));
  ctx.stdout.write(renderRows(format, rows, HISTORY_HEADERS));
  return 0;
}

function save(ctx: Ctx): Promise<number> {
  return writeArchive(ctx, async () => {
    const client = await ctx.client();
    const platform = ctx.flags.opt('platform');
    return client.stream('GET', '/images/get', { query: { names: ctx.args, platform } });
  });
}

function inputStream(ctx: Ctx, file: string): Readable {
  if (file) {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      throw new CliError(openErrorText(file, e));
    }
    return fs.createReadStream(file);
  }
  return ctx.stdin;
}

async function load(ctx: Ctx): Promise<number> {
  const file = ctx.flags.string('input');
  if (!file && ctx.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty');
  const body = inputStream(ctx, file);
  const client = await ctx.client();
  const quiet = ctx.flags.bool('quiet') || !ctx.stdout.isTTY;
  const res = await client.stream('POST', '/images/load', {
    query: { quiet, platform: ctx.flags.opt('platform') },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await displayProgress(res, ctx.stdout);
  return 0;
}

async function importImage(ctx: Ctx): Promise<number> {
  const [source, repo] = ctx.args as [string, string | undefined];
  if (repo) parseRefOrFail(repo);
  const query: Record<string, string | string[] | undefined> = {
    repo,
    message: ctx.flags.opt('message'),
    changes: ctx.flags.list('change'),
    platform: ctx.flags.opt('platform'),
  };
  let body: Readable | undefined;
  if (source === '-') {
    query.fromSrc = '-';
    body = ctx.stdin;
  } else if (/^https?:\/\//.test(source)) {
    query.fromSrc = source;
  } else {
    query.fromSrc = '-';
    body = inputStream(ctx, source);
  }
  const client = await ctx.client();
  const res = await client.stream('POST', '/images/create', {
    query,
    body,
    headers: { 'Content-Type': 'text/plain' },
  });
  await displayProgress(res, ctx.stdout);
  return 0;
}

async function imagePrune(ctx: Ctx): Promise<number> {
  const all = ctx.flags.bool('all');
  if (!ctx.flags.bool('force')) {
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(ctx, warning))) return 0;
  }
  const client = await ctx.client();
  const report = await client.json<{
    ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
    SpaceReclaimed?: number;
  }>('POST', '/images/prune', {
    query: { filters: filtersJson(ctx.flags.list('filter'), { dangling: [all ? 'false' : 'true'] }) },
  });
  const deleted = report?.ImagesDeleted ?? [];
  if (deleted.length > 0) {
    let s = 'Deleted Images:\n';
    for (const d of deleted) s += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    ctx.stdout.write(`${s}\n`);
  }
  ctx.stdout.write(`Total reclaimed space: ${humanSize(report?.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

export const imageCommands: CommandDef[] = [
  { path: 'image ls', arity: range(0, 1), run: imagesList },
  { path: 'image inspect', arity: min(1), run: imageInspect },
  { path: 'image tag', arity: exact(2), run: tag },
  { path: 'image rm', arity: min(1), run: rmi },
  { path: 'image history', arity: exact(1), run: history },
  { path: 'image save', arity: min(1), run: save },
  { path: 'image load', arity: none, run: load },
  { path: 'image import', arity: range(1, 2), run: importImage },
  { path: 'image prune', arity: none, run: imagePrune },
];
