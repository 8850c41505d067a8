/**
 * Image endpoints (docker-api.md §2 tier 2, §4.3): list, inspect, history, tag, remove,
 * save, load, import, prune, and the images half of /system/df. Names carry slashes and
 * colons, so routes match the path suffix with a regex (§0.14). Progress streams are
 * `application/json`, one message + `\r\n` each, flushed one by one; errors after the 200
 * go in-band as `{"errorDetail":{"message":…},"error":…}`.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { goJson } from '../../images/config.js';
import type { DiskUsage, ImageService, ProgressMessage } from '../../images/images.js';
import { badRequest, messageOf } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import type { ApiRequest, Router } from '../types.js';

const log = logger('api');

function writer(out: Writable): (m: ProgressMessage) => void {
  return (m) => {
    if (!out.writableEnded && !out.destroyed) out.write(`${goJson(m)}\r\n`);
  };
}

function errorMessage(e: unknown): ProgressMessage {
  const message = messageOf(e);
  return { errorDetail: { message }, error: message };
}

/** Reads and drops the rest of an upload, so the client sees our answer, not a broken pipe. */
async function drain(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return;
  stream.resume();
  try {
    await once(stream, 'end');
  } catch {
    // the client went away
  }
}

function names(req: ApiRequest): string[] {
  return req.query
    .all('names')
    .flatMap((n) => n.split(','))
    .filter((n) => n !== '');
}

/** The images half of GET /system/df. */
export function imagesDiskUsage(images: ImageService): DiskUsage {
  return images.usage();
}

export function imageRoutes(router: Router, images: ImageService): void {
  router.add('GET', '/images/json', (req, res) => {
    const filters = req.query.filters();
    const legacy = req.query.get('filter');
    if (legacy) filters.set('reference', [...(filters.get('reference') ?? []), legacy]);
    const list = images.list({
      all: req.query.bool('all'),
      filters,
      extraAttributes: req.query.bool('shared-size'),
    });
    res.json(200, list);
  });

  router.add('GET', '/images/get', async (req, res) => {
    const tar = images.save(names(req));
    await sendTar(tar, res.stream(200, 'application/x-tar'));
  });

  router.add('POST', '/images/load', async (req, res) => {
    const quiet = req.query.bool('quiet');
    const out = res.stream(200, 'application/json');
    const send = writer(out);
    try {
      await images.load(req.stream, { quiet, progress: send });
    } catch (e) {
      send(errorMessage(e));
      await drain(req.stream);
    }
    out.end();
  });

  router.add('POST', '/images/create', async (req, res) => {
    const fromImage = req.query.get('fromImage');
    const fromSrc = req.query.get('fromSrc');
    if (fromImage !== undefined && fromImage !== '') {
      await drain(req.stream);
      const out = res.stream(200, 'application/json');
      const tag = req.query.get('tag');
      writer(out)(
        errorMessage(
          new Error(
            `pull access denied for ${fromImage}${tag ? `:${tag}` : ''}: pulling from registries is not implemented yet`,
          ),
        ),
      );
      out.end();
      return;
    }
    if (fromSrc === undefined || fromSrc === '') {
      await drain(req.stream);
      throw badRequest('either fromImage or fromSrc must be given');
    }
    if (fromSrc !== '-') {
      await drain(req.stream);
      throw badRequest(
        `importing from a URL (${fromSrc}) is not supported; send the tar in the request body (fromSrc=-)`,
      );
    }
    let id: string;
    try {
      id = await images.import(req.stream, {
        repo: req.query.get('repo'),
        tag: req.query.get('tag'),
        changes: req.query.all('changes'),
        message: req.query.get('message'),
        platform: req.query.get('platform'),
      });
    } catch (e) {
      await drain(req.stream);
      throw e;
    }
    const out = res.stream(200, 'application/json');
    writer(out)({ status: id });
    out.end();
  });

  router.add('POST', '/images/prune', async (req, res) => {
    res.json(200, await images.prune({ filters: req.query.filters() }));
  });

  router.add('GET', /^\/images\/(.+)\/json$/, (req, res) => {
    res.json(200, images.inspect(req.params[0]!));
  });

  router.add('GET', /^\/images\/(.+)\/history$/, (req, res) => {
    res.json(200, images.history(req.params[0]!));
  });

  router.add('GET', /^\/images\/(.+)\/get$/, async (req, res) => {
    const tar = images.save([req.params[0]!]);
    await sendTar(tar, res.stream(200, 'application/x-tar'));
  });

  router.add('POST', /^\/images\/(.+)\/tag$/, (req, res) => {
    images.tag(req.params[0]!, req.query.get('repo') ?? '', req.query.get('tag'));
    res.empty(201);
  });

  router.add('DELETE', /^\/images\/(.+)$/, async (req, res) => {
    const items = await images.remove(req.params[0]!, {
      force: req.query.bool('force'),
      noprune: req.query.bool('noprune'),
    });
    res.json(200, items);
  });
}

async function sendTar(tar: Readable, out: Writable): Promise<void> {
  try {
    await pipeline(tar, out);
  } catch (e) {
    // Headers are gone already: cutting the connection is how the client learns of it.
    log.warn(`image save failed: ${messageOf(e)}`);
    out.destroy();
  }
}
