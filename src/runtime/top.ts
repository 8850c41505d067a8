/**
 * `docker top`: run the host's `ps` with the client's arguments and keep the rows of the
 * container's pids, as moby's daemon/top_unix.go does (including its "-" thread rows).
 */
import { badRequest, internal } from '../util/errors.js';
import { runTool, ToolError } from '../util/exec.js';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** Splits ps arguments like a shell would for plain words (moby uses strings.Fields). */
export function splitPsArgs(psArgs: string): string[] {
  const args = psArgs.trim().split(/\s+/).filter(Boolean);
  return args.length ? args : ['-ef'];
}

export function filterPsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n');
  const Titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex < 0) throw internal("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const Processes: string[][] = [];
  const add = (fields: string[]) => {
    const row = fields.slice(0, Titles.length - 1);
    row.push(fields.slice(Titles.length - 1).join(' '));
    Processes.push(row);
  };
  let previousWanted = false;
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const fields = line.trim().split(/\s+/);
    const pidField = fields[pidIndex] ?? '';
    if (pidField === '-') {
      // A thread line (ps -m) belongs to the process row before it.
      if (previousWanted) add(fields);
      continue;
    }
    const pid = Number(pidField);
    if (!Number.isInteger(pid)) throw internal(`Unexpected pid '${pidField}': invalid syntax`);
    previousWanted = wanted.has(pid);
    if (previousWanted) add(fields);
  }
  return { Titles, Processes };
}

export async function top(pids: readonly number[], psArgs: string): Promise<TopResult> {
  const args = splitPsArgs(psArgs);
  for (const a of args) {
    if (a.includes('\0')) throw badRequest(`invalid ps_args: ${JSON.stringify(psArgs)}`);
  }
  let stdout: string;
  try {
    ({ stdout } = await runTool('ps', args));
  } catch (e) {
    const msg = e instanceof ToolError ? e.stderr.trim() || e.message : String(e);
    throw internal(`Error running ps: ${msg}`);
  }
  return filterPsOutput(stdout, pids);
}
