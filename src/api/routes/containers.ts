/**
 * The container lifecycle endpoints (docker-api.md §2 tier 1/2, §3, §4.1, §4.5): create,
 * list, inspect, start, stop, kill, restart, pause, unpause, wait, attach, resize, rename,
 * update, remove and prune. `wait` flushes its headers at once and answers when the
 * condition holds (docker run sends it before start and blocks on the headers).
 */
import { type ContainerCore, parseDetachKeys, type WaitCondition } from '../../containers/containers.js';
import { badRequest } from '../../util/errors.js';
import type { ApiRequest, Router } from '../types.js';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

function optionalInt(req: ApiRequest, name: string): number | undefined {
  const v = req.query.get(name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for parameter ${name}: '${v}' is not an integer`);
  return Number(v);
}

export function containerRoutes(router: Router, svc: ContainerCore): void {
  router.add('POST', '/containers/create', async (req, res) => {
    const name = req.query.get('name');
    const body = await req.json();
    const result = await svc.create(body, name === '' ? undefined : name);
    res.json(201, result);
  });

  router.add('GET', '/containers/json', (req, res) => {
    const filters = req.query.filters();
    // Pre-1.24 clients send before/since as plain parameters.
    for (const key of ['before', 'since'] as const) {
      const v = req.query.get(key);
      if (v) filters.set(key, [...(filters.get(key) ?? []), v]);
    }
    const limit = req.query.int('limit', -1);
    res.json(
      200,
      svc.listContainers({ all: req.query.bool('all'), limit, size: req.query.bool('size'), filters }),
    );
  });

  router.add('GET', '/containers/:id/json', (req, res) => {
    res.json(200, svc.inspect(req.params[0]!, req.query.bool('size')));
  });

  router.add('POST', '/containers/:id/start', async (req, res) => {
    await svc.start(req.params[0]!);
    res.empty(204);
  });

  router.add('POST', '/containers/:id/stop', async (req, res) => {
    await svc.stop(req.params[0]!, {
      timeout: optionalInt(req, 't'),
      signal: req.query.get('signal') || undefined,
    });
    res.empty(204);
  });

  router.add('POST', '/containers/:id/restart', async (req, res) => {
    await svc.restart(req.params[0]!, {
      timeout: optionalInt(req, 't'),
      signal: req.query.get('signal') || undefined,
    });
    res.empty(204);
  });

  router.add('POST', '/containers/:id/kill', async (req, res) => {
    await svc.kill(req.params[0]!, req.query.get('signal'));
    res.empty(204);
  });

  router.add('POST', '/containers/:id/pause', async (req, res) => {
    await svc.pause(req.params[0]!);
    res.empty(204);
  });

  router.add('POST', '/containers/:id/unpause', async (req, res) => {
    await svc.unpause(req.params[0]!);
    res.empty(204);
  });

  router.add('POST', '/containers/:id/wait', async (req, res) => {
    const raw = req.query.get('condition') || 'not-running';
    if (!(WAIT_CONDITIONS as readonly string[]).includes(raw)) {
      throw badRequest(`invalid condition: "${raw}"`);
    }
    const { promise, cancel } = svc.wait(req.params[0]!, raw as WaitCondition);
    const out = res.stream(200, 'application/json');
    req.onClientGone(cancel);
    const result = await promise;
    if (!out.writableEnded && !out.destroyed) out.end(`${JSON.stringify(result)}\n`);
  });

  router.add('POST', '/containers/:id/attach', async (req, res) => {
    const id = req.params[0]!;
    svc.get(id);
    const opts = {
      stream: req.query.bool('stream'),
      stdin: req.query.bool('stdin'),
      stdout: req.query.bool('stdout'),
      stderr: req.query.bool('stderr'),
      logs: req.query.bool('logs'),
      detachKeys: parseDetachKeys(req.query.get('detachKeys')),
    };
    const raw = res.hijack();
    await svc.attach(id, raw, opts);
  });

  router.add('POST', '/containers/:id/resize', (req, res) => {
    const h = optionalInt(req, 'h') ?? 0;
    const w = optionalInt(req, 'w') ?? 0;
    svc.resize(req.params[0]!, h, w);
    res.empty(200);
  });

  router.add('POST', '/containers/:id/rename', async (req, res) => {
    await svc.rename(req.params[0]!, req.query.get('name') ?? '');
    res.empty(204);
  });

  router.add('POST', '/containers/:id/update', async (req, res) => {
    res.json(200, await svc.update(req.params[0]!, await req.json()));
  });

  router.add('DELETE', '/containers/:id', async (req, res) => {
    await svc.remove(req.params[0]!, { force: req.query.bool('force'), volumes: req.query.bool('v') });
    res.empty(204);
  });

  router.add('POST', '/containers/prune', async (req, res) => {
    res.json(200, await svc.prune(req.query.filters()));
  });
}
