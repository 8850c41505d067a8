/**
 * berth: the docker-compatible command line. It talks only to the Docker Engine API through
 * client/ (DESIGN.md decision 1).
 *
 * Life cycle of one invocation: global flags (-H, -D, ...) → command lookup (top level, or a
 * management group such as `image ls`, or an alias such as `images`) → flag parsing against the
 * command's table (spec-data.ts; errors exit 125 like docker) → argument count check (exit 1) →
 * the handler in commands/*.ts, which pings the daemon on first use → exit code. Daemon errors print
 * as "Error response from daemon: …"; no daemon prints how to start one (berth never starts it).
 */
import { ApiError, ConnectError, DockerClient } from '../client/client.js';
import { containerCommands } from './commands/container.js';
import { imageCommands } from './commands/image.js';
import { systemCommands } from './commands/system.js';
import { type Arity, CliError, type CommandDef, type Ctx, type In, type Out } from './commands/types.js';
import { FlagError, parseFlags } from './flags.js';
import { TemplateError } from './format/template.js';
import { commandHelp, groupHelp, PROG, rootHelp, type SubcommandEntry, usageLine } from './help.js';
import { COMMAND_SPECS } from './spec-data.js';
import type { CommandSpec } from './spec-types.js';

export const BERTH_VERSION = '0.1.0';

const GROUPS: Record<string, string> = {
  container: 'Manage containers',
  image: 'Manage images',
  system: 'Manage Berth',
};

const COMMON = ['run', 'exec', 'ps', 'images', 'version', 'info'];

interface Resolved {
  def: CommandDef;
  spec: CommandSpec;
  invoked: string;
}

export interface Io {
  stdout: Out;
  stderr: Out;
  stdin: In;
  env: NodeJS.ProcessEnv;
}

function allDefs(): CommandDef[] {
  return [...imageCommands, ...containerCommands, ...systemCommands];
}

function specFor(path: string): CommandSpec {
  const s = COMMAND_SPECS.find((c) => c.path === path);
  if (!s) throw new Error(`no spec for command "${path}"`);
  return s;
}

/** Every name a command answers to, mapped to its canonical definition. */
function commandIndex(): Map<string, Resolved> {
  const index = new Map<string, Resolved>();
  for (const def of allDefs()) {
    const spec = specFor(def.path);
    index.set(def.path, { def, spec, invoked: def.path });
    // `image list` is cobra's alias of `image ls` and prints as `image ls`; `images` is a command of its own
    for (const alias of spec.aliases ?? [])
      index.set(alias, { def, spec, invoked: alias.includes(' ') ? def.path : alias });
  }
  return index;
}

function topLevelGroups(index: Map<string, Resolved>): {
  common: SubcommandEntry[];
  management: SubcommandEntry[];
  commands: SubcommandEntry[];
} {
  const tops = [...index.keys()].filter((k) => !k.includes(' ')).sort();
  const desc = (k: string) => index.get(k)?.spec.desc ?? '';
  return {
    common: COMMON.filter((c) => index.has(c)).map((c) => ({ name: c, desc: desc(c) })),
    management: Object.entries(GROUPS).map(([name, d]) => ({ name, desc: d })),
    commands: tops.filter((t) => !COMMON.includes(t)).map((t) => ({ name: t, desc: desc(t) })),
  };
}

function groupEntries(index: Map<string, Resolved>, group: string): SubcommandEntry[] {
  return [...index.entries()]
    .filter(([k, r]) => k.startsWith(`${group} `) && k.split(' ').length === 2 && r.spec.path === k)
    .map(([k, r]) => ({ name: k.slice(group.length + 1), desc: r.spec.desc }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function plural(n: number): string {
  return n === 1 ? '1 argument' : `${n} arguments`;
}

/** docker 28's wording for a wrong number of arguments; null when the count is fine. */
export function arityError(arity: Arity, count: number): { message: string; hint: 'See' | 'Run' } | null {
  switch (arity.kind) {
    case 'none':
      return count === 0 ? null : { message: 'accepts no arguments', hint: 'Run' };
    case 'exact':
      return count === arity.n ? null : { message: `requires ${plural(arity.n)}`, hint: 'Run' };
    case 'min':
      return count >= arity.n ? null : { message: `requires at least ${plural(arity.n)}`, hint: 'See' };
    case 'range':
      return count >= arity.min && count <= arity.max
        ? null
        : { message: `requires at least ${arity.min} and at most ${plural(arity.max)}`, hint: 'Run' };
    default:
      return null;
  }
}

function write(stream: Out, text: string): void {
  stream.write(text);
}

export async function main(argv: string[], io?: Partial<Io>): Promise<number> {
  const stdout: Out = io?.stdout ?? process.stdout;
  const stderr: Out = io?.stderr ?? process.stderr;
  const stdin: In = io?.stdin ?? process.stdin;
  const env = io?.env ?? process.env;
  const index = commandIndex();
  const root = specFor('');
  // A closed pipe (`berth logs x | head`) ends berth quietly, like Go's SIGPIPE exit.
  for (const s of [stdout, stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(141);
      throw e;
    });
  }

  let global: ReturnType<typeof parseFlags>;
  try {
    global = parseFlags(root.flags, argv, { interspersed: false });
  } catch (e) {
    if (e instanceof FlagError) {
      write(
        stderr,
        `${e.message}\n\nUsage:  ${PROG} [OPTIONS] COMMAND\n\nRun '${PROG} --help' for more information\n`,
      );
      return 125;
    }
    throw e;
  }
  if (global.flags.bool('version')) {
    write(stdout, `Berth version ${BERTH_VERSION}, build node-${process.versions.node}\n`);
    return 0;
  }
  const rest = global.args;
  if (global.help || rest.length === 0) {
    write(stdout, rootHelp(topLevelGroups(index), root.flags));
    return 0;
  }
  const hosts = global.flags.list('host');
  if (hosts.length > 1) {
    write(stderr, 'Specify only one -H\n');
    return 1;
  }

  let name = rest[0] as string;
  let argStart = 1;
  if (name === 'help') {
    const target = rest.slice(1).join(' ');
    const r = index.get(target);
    if (r) write(stdout, commandHelp(r.invoked, r.spec));
    else write(stdout, rootHelp(topLevelGroups(index), root.flags));
    return 0;
  }
  if (GROUPS[name] !== undefined) {
    const group = name;
    const sub = rest[1];
    if (sub === undefined || sub === '--help' || sub === '-h') {
      write(stdout, groupHelp(group, GROUPS[group] ?? '', groupEntries(index, group)));
      return 0;
    }
    name = `${group} ${sub}`;
    argStart = 2;
    if (!index.has(name)) {
      write(
        stderr,
        `${PROG}: unknown command: ${PROG} ${name}\n\nUsage:  ${PROG} ${group}\n\nRun '${PROG} ${group} --help' for more information\n`,
      );
      return 1;
    }
  }
  const resolved = index.get(name);
  if (!resolved) {
    write(stderr, `${PROG}: unknown command: ${PROG} ${name}\n\nRun '${PROG} --help' for more information\n`);
    return 1;
  }
  const { def, spec, invoked } = resolved;
  const usage = usageLine(invoked, spec);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(spec.flags, rest.slice(argStart), { interspersed: !def.stopAtFirstArg });
  } catch (e) {
    if (e instanceof FlagError) {
      write(
        stderr,
        `${e.message}\n\nUsage:  ${usage}\n\nRun '${PROG} ${invoked} --help' for more information\n`,
      );
      return 125;
    }
    throw e;
  }
  if (parsed.help) {
    write(stdout, commandHelp(invoked, spec));
    return 0;
  }
  const bad = arityError(def.arity, parsed.args.length);
  if (bad) {
    write(
      stderr,
      `${PROG}: '${PROG} ${invoked}' ${bad.message}\n\nUsage:  ${usage}\n\n${bad.hint} '${PROG} ${invoked} --help' for more information\n`,
    );
    return 1;
  }

  let client: DockerClient | undefined;
  let negotiated: Promise<DockerClient> | undefined;
  const ctx: Ctx = {
    invoked,
    spec,
    flags: parsed.flags,
    args: parsed.args,
    stdout,
    stderr,
    stdin,
    env,
    client: () => {
      if (!negotiated) {
        client = DockerClient.fromEnv(hosts[0], env);
        const c = client;
        negotiated = c.negotiate().then(() => c);
      }
      return negotiated;
    },
  };
  try {
    const code = await def.run(ctx);
    return code ?? 0;
  } catch (e) {
    return reportError(e, stderr);
  } finally {
    client?.close();
  }
}

/** Prints a handler's failure the way docker does and returns the exit code. */
export function reportError(e: unknown, stderr: Out): number {
  if (e instanceof CliError) {
    if (e.message) write(stderr, e.message.endsWith('\n') ? e.message : `${e.message}\n`);
    return e.code;
  }
  if (e instanceof ApiError) {
    write(stderr, `Error response from daemon: ${e.message}\n`);
    return 1;
  }
  if (e instanceof ConnectError) {
    write(stderr, `${e.message}\n`);
    return 1;
  }
  if (e instanceof TemplateError) {
    write(stderr, `template parsing error: template: :1: ${e.message}\n`);
    return 1;
  }
  write(stderr, `${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}
