/**
 * `docker commit`: the container's writable layer as a new layer on top of its image.
 * The layer tar is the snapshot diff (whiteouts for deletions); the new image's config is the
 * container's config, with a config from the request body merged over it (dockerd's `merge`)
 * and the `-c` changes applied by the images part. With `pause` (the default) a running
 * container is frozen while the diff is read, so the layer is a consistent cut.
 */

import type { ContainerConfigJson, ImageService } from '../images/images.js';
import type { SnapshotStore } from '../snapshots/snapshots.js';
import { badRequest, conflict } from '../util/errors.js';
import { isEngineMountPoint } from './changes.js';
import type { ContainerService } from './containers.js';
import { containerEventAttributes, type EventPublisher } from './exec-sessions.js';

export interface CommitRequest {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes: string[];
  pause: boolean;
  /** The request body: a container config whose set fields win over the container's. */
  config?: ContainerConfigJson;
}

export interface CommitDeps {
  containers: ContainerService;
  snapshots: Pick<SnapshotStore, 'diffTar'>;
  images: Pick<ImageService, 'createImageFromLayer'>;
  events: EventPublisher;
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** dockerd's daemon/commit.go merge(userConf, imageConf): fills what the user left unset. */
export function mergeCommitConfig(user: ContainerConfigJson, base: ContainerConfigJson): ContainerConfigJson {
  const out: ContainerConfigJson = {
    ...base,
    ...Object.fromEntries(Object.entries(user).filter(([, v]) => !isEmpty(v))),
  };
  if (isEmpty(user.User)) out.User = base.User;
  const ports = { ...(base.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  out.ExposedPorts = Object.keys(ports).length ? ports : (base.ExposedPorts ?? user.ExposedPorts);
  const env = [...(user.Env ?? [])];
  for (const e of base.Env ?? []) {
    const key = e.split('=', 1)[0];
    if (!env.some((u) => u.split('=', 1)[0] === key)) env.push(e);
  }
  out.Env = env.length ? env : (base.Env ?? null);
  const labels = { ...(base.Labels ?? {}), ...(user.Labels ?? {}) };
  out.Labels = Object.keys(labels).length ? labels : (base.Labels ?? null);
  // Cmd comes from the container only when the user set neither Cmd nor Entrypoint.
  if (isEmpty(user.Cmd) && isEmpty(user.Entrypoint)) {
    out.Cmd = base.Cmd ?? null;
    out.Entrypoint = base.Entrypoint ?? null;
  } else {
    out.Cmd = user.Cmd ?? null;
    out.Entrypoint = isEmpty(user.Entrypoint) ? (base.Entrypoint ?? null) : user.Entrypoint;
  }
  const volumes = { ...(base.Volumes ?? {}), ...(user.Volumes ?? {}) };
  out.Volumes = Object.keys(volumes).length ? volumes : (base.Volumes ?? null);
  return out;
}

/** Parses the optional JSON body of POST /commit; 400 when it is not an object. */
export function parseCommitConfig(body: unknown): ContainerConfigJson | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body))
    throw badRequest('invalid commit config: expected a JSON object');
  const b = body as Record<string, unknown>;
  const lists = ['Cmd', 'Entrypoint', 'Env', 'OnBuild', 'Shell'];
  for (const f of lists) {
    const v = b[f];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      throw badRequest(`invalid commit config: ${f} must be a list of strings, got ${JSON.stringify(v)}`);
    }
  }
  for (const f of ['User', 'WorkingDir', 'StopSignal', 'Image', 'Hostname']) {
    const v = b[f];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw badRequest(`invalid commit config: ${f} must be a string, got ${JSON.stringify(v)}`);
    }
  }
  // Nothing set at all is the CLI's "no config" (it sends `{}` or `null`).
  if (Object.values(b).every(isEmpty)) return undefined;
  return b as ContainerConfigJson;
}

/** Commits a container; resolves with the new image ID (`sha256:…`). */
export async function commitContainer(deps: CommitDeps, req: CommitRequest): Promise<string> {
  const c = deps.containers.get(req.container);
  if (c.state.Status === 'removing')
    throw conflict(`You cannot commit container ${c.name.slice(1)} which is being removed`);
  if (c.state.Status === 'dead')
    throw conflict(`You cannot commit container ${c.name.slice(1)} which is dead`);
  const containerConfig = c.config as ContainerConfigJson;
  const config = req.config ? mergeCommitConfig(req.config, containerConfig) : containerConfig;

  const mustPause = req.pause && c.state.Running && !c.state.Paused;
  if (mustPause) await deps.containers.pause(c.id);
  let imageId: string;
  try {
    imageId = await deps.images.createImageFromLayer({
      parentImageId: c.imageId || undefined,
      layerTar: deps.snapshots.diffTar(c.id, isEngineMountPoint),
      config,
      containerConfig,
      containerId: c.id,
      comment: req.comment,
      author: req.author,
      changes: req.changes,
      repo: req.repo || undefined,
      tag: req.tag || undefined,
    });
  } finally {
    if (mustPause) await deps.containers.unpause(c.id);
  }
  const imageRef = req.repo ? `${req.repo}${req.tag ? `:${req.tag}` : ''}` : '';
  deps.events.publish('container', 'commit', c.id, {
    ...containerEventAttributes(c),
    comment: req.comment ?? '',
    imageID: imageId,
    imageRef,
  });
  return imageId;
}
