/**
 * The "seeing inside" container endpoints: logs, exec, top, stats, changes, archive (cp),
 * export and commit. Each handler parses the request, calls the containers part's modules
 * and renders Docker's answer; container actions publish dockerd's events (exec_create,
 * exec_start, exec_die, top, archive-path, extract-to-dir, export, commit).
 */
import { pipeline } from 'node:stream/promises';
import {
  archiveContainerPath,
  encodePathStat,
  extractToContainerPath,
  statContainerPath,
} from '../../containers/archive.js';
import { userChanges } from '../../containers/changes.js';
import { commitContainer, parseCommitConfig } from '../../containers/commit.js';
import type { ContainerService } from '../../containers/containers.js';
import {
  containerEventAttributes,
  type EventPublisher,
  ExecSessions,
} from '../../containers/exec-sessions.js';
import { exportRootfs } from '../../containers/export.js';
import { parseLogsQuery, writeLogRecords } from '../../containers/log-stream.js';
import { emptyStats, PRECPU_GAP_MS, STREAM_INTERVAL_MS, withPrevious } from '../../containers/stats.js';
import type { EventBus } from '../../daemon/events.js';
import type { ImageService } from '../../images/images.js';
import type { Runtime, StatsSample } from '../../runtime/runtime.js';
import type { SnapshotStore } from '../../snapshots/snapshots.js';
import { badRequest, conflict } from '../../util/errors.js';
import type { ApiRequest, Router } from '../types.js';

export interface ContainerInspectDeps {
  containers: ContainerService;
  runtime: Runtime;
  snapshots: Pick<SnapshotStore, 'changes' | 'diffTar'>;
  images: Pick<ImageService, 'createImageFromLayer'>;
  events: EventPublisher;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function clientGone(req: ApiRequest): { promise: Promise<void>; gone: () => boolean } {
  let isGone = false;
  const promise = new Promise<void>((resolve) =>
    req.onClientGone(() => {
      isGone = true;
      resolve();
    }),
  );
  return { promise, gone: () => isGone };
}

function archivePathParam(req: ApiRequest): string {
  const p = req.query.get('path');
  if (p === undefined || p === '') throw badRequest('Path cannot be empty');
  return p;
}

/** Mounts the routes; returns the exec session registry (the core's inspect lists ExecIDs). */
export function containerInspectRoutes(router: Router, deps: ContainerInspectDeps): { execs: ExecSessions } {
  const { containers, runtime, events } = deps;
  const execs = new ExecSessions({ containers, runtime, events });
  // Exec records go with their container (the bus of the daemon lets us hear `destroy`).
  const bus = events as Partial<Pick<EventBus, 'subscribe'>>;
  bus.subscribe?.((e) => {
    if (e.Type === 'container' && e.Action === 'destroy') execs.forgetContainer(e.Actor.ID);
  });
  const publish = (id: string, action: string, extra: Record<string, string> = {}) => {
    const c = containers.get(id);
    events.publish('container', action, c.id, { ...containerEventAttributes(c), ...extra });
  };

  // ---------------------------------------------------------------- logs

  router.add('GET', '/containers/:id/logs', async (req, res) => {
    const c = containers.get(req.params[0]!);
    const q = parseLogsQuery(req.query);
    const client = clientGone(req);
    const live = c.state.Running || c.state.Restarting;
    const follow = q.follow && live;
    const stopWhen = follow ? Promise.race([runtime.wait(c.id), client.promise]) : undefined;
    // dockerd 20.10 sends no Content-Type here; the CLI knows the framing from Config.Tty.
    const out = res.stream(200, undefined);
    const records = runtime.logs(c.logPath, {
      stdout: q.stdout,
      stderr: q.stderr,
      // A double holds unix nanoseconds only to ~240 ns, so a bound copied from `logs -t`
      // would miss its own line: widen both bounds by 1 µs to keep them inclusive.
      since: q.since === undefined ? undefined : q.since - 1e-6,
      until: q.until === undefined ? undefined : q.until + 1e-6,
      tail: q.tail,
      follow,
      stopWhen,
    });
    await writeLogRecords(
      records,
      out,
      { tty: c.config.Tty === true, timestamps: q.timestamps, details: q.details },
      client.gone,
    );
    out.end();
  });

  // ---------------------------------------------------------------- exec

  router.add('POST', '/containers/:id/exec', async (req, res) => {
    const body = await req.json();
    const id = execs.create(req.params[0]!, body);
    res.json(201, { Id: id });
  });

  router.add('POST', '/exec/:id/start', async (req, res) => {
    const id = req.params[0]!;
    const body = (await req.json<Record<string, unknown>>()) ?? {};
    if (typeof body !== 'object' || Array.isArray(body))
      throw badRequest('invalid exec start body: expected a JSON object');
    const detach = body.Detach === true;
    execs.checkStartable(id);
    if (detach) {
      await execs.start(id, undefined);
      res.empty(200);
      return;
    }
    const conn = res.hijack();
    await execs.start(id, { input: conn.input, output: conn.output, end: () => conn.end() });
  });

  router.add('POST', '/exec/:id/resize', (req, res) => {
    execs.resize(req.params[0]!, req.query.int('h'), req.query.int('w'));
    res.empty(200);
  });

  router.add('GET', '/exec/:id/json', (req, res) => {
    res.json(200, execs.inspect(req.params[0]!));
  });

  // ---------------------------------------------------------------- top, stats, changes

  router.add('GET', '/containers/:id/top', async (req, res) => {
    const c = containers.get(req.params[0]!);
    if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
    if (c.state.Restarting)
      throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    const result = await runtime.top(c.id, req.query.get('ps_args') ?? '');
    publish(c.id, 'top');
    res.json(200, result);
  });

  router.add('GET', '/containers/:id/stats', async (req, res) => {
    const c = containers.get(req.params[0]!);
    const stream = req.query.bool('stream', true);
    const oneShot = req.query.bool('one-shot', false);
    const sample = async (): Promise<StatsSample | undefined> => {
      const now = containers.get(c.id);
      if (!now.state.Running || now.state.Restarting) return undefined;
      try {
        return await runtime.stats(c.id);
      } catch {
        return undefined;
      }
    };
    if (!stream) {
      const first = await sample();
      if (!first) {
        res.json(200, emptyStats(c));
        return;
      }
      if (oneShot) {
        res.json(200, withPrevious(first, undefined, c));
        return;
      }
      await sleep(PRECPU_GAP_MS);
      const second = await sample();
      res.json(200, second ? withPrevious(second, first, c) : emptyStats(c));
      return;
    }
    const client = clientGone(req);
    const out = res.stream(200, 'application/json');
    let previous: StatsSample | undefined;
    while (!client.gone() && !out.destroyed) {
      const s = await sample();
      const body = s ? withPrevious(s, previous, c) : emptyStats(c);
      previous = s;
      out.write(`${JSON.stringify(body)}\n`);
      await Promise.race([sleep(STREAM_INTERVAL_MS), client.promise]);
    }
    out.end();
  });

  router.add('GET', '/containers/:id/changes', async (req, res) => {
    const c = containers.get(req.params[0]!);
    res.json(200, userChanges(await deps.snapshots.changes(c.id)));
  });

  // ---------------------------------------------------------------- archive (cp), export

  /** cp resolves paths in a running container's root: its processes are frozen meanwhile. */
  const FROZEN = { freeze: true };

  router.add('HEAD', '/containers/:id/archive', async (req, res) => {
    const name = req.params[0]!;
    const p = archivePathParam(req);
    const stat = await containers.withRootfs(name, async (root) => statContainerPath(root, p, name), FROZEN);
    res.stream(200, 'application/json', { 'X-Docker-Container-Path-Stat': encodePathStat(stat) }).end();
  });

  router.add('GET', '/containers/:id/archive', async (req, res) => {
    const name = req.params[0]!;
    const p = archivePathParam(req);
    await containers.withRootfs(
      name,
      (root) =>
        archiveContainerPath(root, p, name, async (stat, tar) => {
          const out = res.stream(200, 'application/x-tar', {
            'X-Docker-Container-Path-Stat': encodePathStat(stat),
          });
          await pipeline(tar, out);
        }),
      FROZEN,
    );
    publish(name, 'archive-path');
  });

  router.add('PUT', '/containers/:id/archive', async (req, res) => {
    const name = req.params[0]!;
    const p = archivePathParam(req);
    const noOverwriteDirNonDir = req.query.bool('noOverwriteDirNonDir');
    await containers.withRootfs(
      name,
      (root, c) =>
        extractToContainerPath(root, p, name, req.stream, {
          noOverwriteDirNonDir,
          readonlyRootfs: c.hostConfig.ReadonlyRootfs === true,
        }),
      FROZEN,
    );
    publish(name, 'extract-to-dir');
    res.empty(200);
  });

  router.add('GET', '/containers/:id/export', async (req, res) => {
    const name = req.params[0]!;
    await containers.withRootfs(name, (root) =>
      exportRootfs(root, async (tar) => {
        await pipeline(tar, res.stream(200, 'application/octet-stream'));
      }),
    );
    publish(name, 'export');
  });

  // ---------------------------------------------------------------- commit

  router.add('POST', '/commit', async (req, res) => {
    const config = parseCommitConfig(await req.json());
    const id = await commitContainer(
      { containers, snapshots: deps.snapshots, images: deps.images, events },
      {
        container: req.query.get('container') ?? '',
        repo: req.query.get('repo'),
        tag: req.query.get('tag'),
        comment: req.query.get('comment'),
        author: req.query.get('author'),
        changes: req.query.all('changes'),
        pause: req.query.bool('pause', true),
        config,
      },
    );
    res.json(201, { Id: id });
  });

  return { execs };
}
