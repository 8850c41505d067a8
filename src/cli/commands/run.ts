// create, run, start, attach and exec: the commands that create processes and join their streams.
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import { ApiError, type DockerClient } from '../../client/client.js';
import { PROG } from '../help.js';
import { familiarString, fullName, parseReference, withDefaultTag } from '../reference.js';
import { buildCreateRequest, type CreateRequest, envValue, parseEnvFile } from './container-config.js';
import { followTerminalSize, type PumpResult, proxySignals, pumpStreams, rawMode } from './streams.js';
import { CliError, type Ctx } from './types.js';
import { displayProgress, forEachArg } from './util.js';

/** docker run's toStatusError: 127 not found, 126 not executable, 125 anything else. */
export function runExitCode(message: string): number {
  if (
    message.includes('executable file not found') ||
    message.includes('no such file or directory') ||
    message.includes('system cannot find the file specified')
  )
    return 127;
  if (message.includes('permission denied') || message.includes('is a directory')) return 126;
  return 125;
}

function runError(ctx: Ctx, e: unknown): CliError {
  const msg =
    e instanceof ApiError
      ? `Error response from daemon: ${e.message}`
      : e instanceof Error
        ? e.message
        : String(e);
  const code = e instanceof CliError && e.code !== 1 && e.code !== 125 ? e.code : runExitCode(msg);
  return new CliError(`${PROG}: ${msg}\n\nRun '${PROG} ${ctx.invoked} --help' for more information`, code);
}

async function pullImage(ctx: Ctx, client: DockerClient, image: string, platform?: string): Promise<void> {
  const ref = withDefaultTag(parseReference(image));
  const res = await client.stream('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.tag ?? ref.digest, platform },
    headers: { 'X-Registry-Auth': 'e30=' },
  });
  await displayProgress(res, ctx.stderr);
}

/** POST /containers/create, pulling the image first when it is missing (--pull=missing). */
async function createContainer(ctx: Ctx, client: DockerClient, req: CreateRequest): Promise<string> {
  const pull = ctx.flags.string('pull') || 'missing';
  if (!['always', 'missing', 'never'].includes(pull))
    throw new CliError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, 125);
  const image = req.body.Image as string;
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(image);
  } catch (e) {
    throw new CliError(`${(e as Error).message}`, 125);
  }
  if (pull === 'always') await pullImage(ctx, client, image, req.platform);
  const create = () =>
    client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: req.name, platform: req.platform },
      body: req.body,
    });
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await create();
  } catch (e) {
    if (
      !(e instanceof ApiError) ||
      e.status !== 404 ||
      pull !== 'missing' ||
      !/No such image/i.test(e.message)
    )
      throw e;
    ctx.stderr.write(`Unable to find image '${familiarString(withDefaultTag(ref))}' locally\n`);
    await pullImage(ctx, client, image, req.platform);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.stderr.write(`WARNING: ${w}\n`);
  const cidfile = ctx.flags.string('cidfile');
  if (cidfile) {
    if (fs.existsSync(cidfile))
      throw new CliError(
        `container ID file found, make sure the other container isn't running or delete ${cidfile}`,
        125,
      );
    fs.writeFileSync(cidfile, res.Id);
  }
  return res.Id;
}

export async function createCmd(ctx: Ctx): Promise<number> {
  const [image, ...cmd] = ctx.args as [string, ...string[]];
  try {
    const req = buildCreateRequest(ctx.flags, image, cmd, ctx.env, false);
    const client = await ctx.client();
    const id = await createContainer(ctx, client, req);
    ctx.stdout.write(`${id}\n`);
    return 0;
  } catch (e) {
    throw runError(ctx, e);
  }
}

interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** Starts a wait request and resolves with its body; the headers arrive before /start is sent. */
async function startWait(
  client: DockerClient,
  id: string,
  condition: string,
): Promise<{ result: Promise<WaitResult> }> {
  const res = await client.stream('POST', `/containers/${id}/wait`, { query: { condition } });
  const result = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8').trim();
    return text ? (JSON.parse(text) as WaitResult) : { StatusCode: 0 };
  })();
  result.catch(() => {});
  return { result };
}

/** Keeps the size of the remote TTY behind `resizePath` in step with this terminal; returns the stop. */
function followResize(ctx: Ctx, client: DockerClient, resizePath: string): () => void {
  return followTerminalSize(ctx.stdout, async (h, w) => {
    await client.request('POST', resizePath, { query: { h, w } });
  });
}

/** --sig-proxy: the signals this process receives go to the container; returns the stop. */
function proxyToContainer(client: DockerClient, id: string): () => void {
  return proxySignals(async (sig) => {
    await client.request('POST', `/containers/${id}/kill`, { query: { signal: sig } });
  });
}

/** Hijacks a container's attach stream for the chosen streams, with the user's --detach-keys. */
function attachStreams(
  ctx: Ctx,
  client: DockerClient,
  id: string,
  streams: { stdin: boolean; stdout: boolean; stderr: boolean },
): Promise<Duplex> {
  return client.hijack(`/containers/${id}/attach`, {
    stream: true,
    stdin: streams.stdin || undefined,
    stdout: streams.stdout || undefined,
    stderr: streams.stderr || undefined,
    detachKeys: ctx.flags.opt('detach-keys'),
  });
}

/** Joins a hijacked socket with this process's stdio until the end or the detach keys. */
function pumpStdio(ctx: Ctx, socket: Duplex, tty: boolean, withStdin: boolean): Promise<PumpResult> {
  return pumpStreams({
    socket,
    tty,
    stdin: withStdin ? ctx.stdin : null,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
    detachKeys: ctx.flags.string('detach-keys'),
  });
}

export async function runCmd(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const [image, ...cmd] = ctx.args as [string, ...string[]];
  let req: CreateRequest;
  try {
    req = buildCreateRequest(f, image, cmd, ctx.env, true);
  } catch (e) {
    throw runError(ctx, e);
  }
  const detach = f.bool('detach');
  if (!detach && req.attach.stdin && req.tty && !ctx.stdin.isTTY) {
    throw new CliError(`${PROG}: the input device is not a TTY`, 1);
  }
  if (req.tty && ctx.stdout.isTTY) {
    req.body.HostConfig.ConsoleSize = [ctx.stdout.rows ?? 24, ctx.stdout.columns ?? 80];
  }
  let client: DockerClient;
  let id: string;
  try {
    client = await ctx.client();
    id = await createContainer(ctx, client, req);
  } catch (e) {
    throw runError(ctx, e);
  }
  if (detach) {
    try {
      await client.request('POST', `/containers/${id}/start`);
    } catch (e) {
      throw runError(ctx, e);
    }
    ctx.stdout.write(`${id}\n`);
    return 0;
  }

  const attachAny = req.attach.stdin || req.attach.stdout || req.attach.stderr;
  const socket = attachAny ? await attachStreams(ctx, client, id, req.attach) : undefined;
  const autoRemove = f.bool('rm');
  const waitBody = await startWait(client, id, autoRemove ? 'removed' : 'next-exit');
  const restore = req.tty && req.attach.stdin ? rawMode(ctx.stdin) : () => {};
  let stopSignals = () => {};
  let stopResize = () => {};
  try {
    const pump = socket ? pumpStdio(ctx, socket, req.tty, req.attach.stdin) : Promise.resolve('eof' as const);
    try {
      await client.request('POST', `/containers/${id}/start`);
    } catch (e) {
      socket?.destroy();
      restore();
      throw runError(ctx, e);
    }
    if (req.tty && ctx.stdout.isTTY) stopResize = followResize(ctx, client, `/containers/${id}/resize`);
    if (f.bool('sig-proxy') && !req.tty) stopSignals = proxyToContainer(client, id);
    const how = await pump;
    if (how === 'detached') return 0;
    const result = await waitBody.result;
    if (result.Error?.Message) throw new CliError(`${PROG}: ${result.Error.Message}`, 125);
    return result.StatusCode;
  } finally {
    stopSignals();
    stopResize();
    restore();
  }
}

interface ContainerJson {
  Id: string;
  Config: { Tty: boolean; OpenStdin: boolean; AttachStdin?: boolean };
  State: { Running: boolean; Paused: boolean; Restarting: boolean };
  HostConfig?: { AutoRemove?: boolean };
}

export async function startCmd(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const client = await ctx.client();
  const attach = f.bool('attach') || f.bool('interactive');
  if (!attach) {
    return forEachArg(ctx, ctx.args, async (name) => {
      await client.request('POST', `/containers/${name}/start`);
      ctx.stdout.write(`${name}\n`);
    });
  }
  if (ctx.args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
  const name = ctx.args[0] as string;
  const info = await client.get<ContainerJson>(`/containers/${name}/json`);
  const tty = info.Config.Tty;
  const withStdin = f.bool('interactive') && info.Config.OpenStdin;
  const socket = await attachStreams(ctx, client, name, { stdin: withStdin, stdout: true, stderr: true });
  const waitBody = await startWait(client, name, 'next-exit');
  const restore = tty && withStdin ? rawMode(ctx.stdin) : () => {};
  try {
    const pump = pumpStdio(ctx, socket, tty, withStdin);
    await client.request('POST', `/containers/${name}/start`);
    const stopResize = tty ? followResize(ctx, client, `/containers/${name}/resize`) : () => {};
    const how = await pump;
    stopResize();
    if (how === 'detached') return 0;
    const result = await waitBody.result;
    return result.StatusCode;
  } finally {
    restore();
  }
}

export async function attachCmd(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const client = await ctx.client();
  const name = ctx.args[0] as string;
  const info = await client.get<ContainerJson>(`/containers/${name}/json`);
  if (!info.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
  if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
  if (info.State.Restarting)
    throw new CliError('You cannot attach to a restarting container, wait until it is running');
  const tty = info.Config.Tty;
  const withStdin = !f.bool('no-stdin') && info.Config.OpenStdin;
  const waitBody = await startWait(client, name, 'not-running');
  const socket = await attachStreams(ctx, client, name, { stdin: withStdin, stdout: true, stderr: true });
  const restore = tty && withStdin ? rawMode(ctx.stdin) : () => {};
  const stopResize = tty ? followResize(ctx, client, `/containers/${name}/resize`) : () => {};
  const stopSignals = f.bool('sig-proxy') && !tty ? proxyToContainer(client, name) : () => {};
  try {
    const how = await pumpStdio(ctx, socket, tty, withStdin);
    if (how === 'detached') throw new CliError('read escape sequence');
    const result = await waitBody.result;
    return result.StatusCode;
  } finally {
    stopSignals();
    stopResize();
    restore();
  }
}

export async function execCmd(ctx: Ctx): Promise<number> {
  const f = ctx.flags;
  const [name, ...cmd] = ctx.args as [string, ...string[]];
  const tty = f.bool('tty');
  const interactive = f.bool('interactive');
  const detach = f.bool('detach');
  if (!detach && interactive && tty && !ctx.stdin.isTTY) throw new CliError('the input device is not a TTY');
  const env = [
    ...f.list('env-file').flatMap((file) => parseEnvFile(file, ctx.env)),
    ...f.list('env').map((e) => envValue(e, ctx.env)),
  ];
  const client = await ctx.client();
  await client.get(`/containers/${name}/json`);
  const body = {
    User: f.string('user'),
    Privileged: f.bool('privileged'),
    Tty: tty,
    ConsoleSize: tty && ctx.stdout.isTTY ? [ctx.stdout.rows ?? 24, ctx.stdout.columns ?? 80] : null,
    AttachStdin: interactive && !detach,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: detach,
    DetachKeys: f.string('detach-keys'),
    Env: env.length ? env : null,
    WorkingDir: f.string('workdir'),
    Cmd: cmd,
  };
  const created = await client.json<{ Id: string }>('POST', `/containers/${name}/exec`, { body });
  if (!created?.Id) throw new CliError('exec ID empty');
  const execId = created.Id;
  if (detach) {
    await client.request('POST', `/exec/${execId}/start`, { body: { Detach: true, Tty: tty } });
    return 0;
  }
  const socket = await client.hijack(`/exec/${execId}/start`, undefined, { Detach: false, Tty: tty });
  const restore = tty && interactive ? rawMode(ctx.stdin) : () => {};
  const stopResize = tty ? followResize(ctx, client, `/exec/${execId}/resize`) : () => {};
  try {
    const how = await pumpStdio(ctx, socket, tty, interactive);
    if (how === 'detached') return 0;
  } finally {
    stopResize();
    restore();
  }
  const inspect = await client.get<{ ExitCode: number | null; Running: boolean }>(`/exec/${execId}/json`);
  return inspect.ExitCode ?? 0;
}
