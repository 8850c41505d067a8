/**
 * The image store: images, their tags and repo digests, and the layers they stand on.
 *
 * Life cycle of an image: it arrives by `load` (docker-archive or OCI layout), `import`
 * (a rootfs tar), or `createImageFromLayer` (commit, build) → its config is stored as a blob
 * whose sha256 is the image ID (the bytes are never re-serialised); each layer streams
 * (gunzipped when needed) into the snapshot store, unpacked once per chain ID, and the
 * snapshot store's copy of its tar is the only one (save reads it back; no diffID blobs)
 * → rows (image, tags, layer references) are added in one transaction, so a failed
 * load adds nothing → `tag`/`remove` move names → `remove` of the last name (or by ID)
 * deletes the row, its config blob and every layer no other image uses, top down; layers a
 * container still stands on stay until `releaseUnusedLayers` after that container is removed.
 * Names follow docker's reference rules (reference.ts); errors carry Docker's messages.
 */
import type { Readable } from 'node:stream';
import type { Filters } from '../api/types.js';
import type { ContentStore } from '../content/content.js';
import type { SnapshotStore } from '../snapshots/snapshots.js';
import type { Store } from '../store/store.js';
import type { ContainerConfigJson, ImageConfigJson } from './config.js';

export type { ContainerConfigJson, ImageConfigJson } from './config.js';

/** One entry of GET /images/json (and of /system/df's Images). */
export interface ImageSummary {
  Containers: number;
  Created: number;
  Id: string;
  Labels: Record<string, string> | null;
  ParentId: string;
  RepoDigests: string[];
  RepoTags: string[];
  SharedSize: number;
  Size: number;
  VirtualSize: number;
}

/** GET /images/{name}/json */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  ContainerConfig: ContainerConfigJson;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfigJson | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: { Data: Record<string, string> | null; Name: string };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** GET /images/{name}/history, newest first. */
export interface HistoryItem {
  Comment: string;
  Created: number;
  CreatedBy: string;
  Id: string;
  Size: number;
  Tags: string[] | null;
}

export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface PruneReport {
  ImagesDeleted: DeleteItem[] | null;
  SpaceReclaimed: number;
}

/** One JSON progress message (docker-api.md §4.3); the route frames and flushes it. */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { message: string; code?: number };
}

export type Progress = (m: ProgressMessage) => void;

/** Which containers use an image (full container IDs); provided by the containers part. */
export interface ImageUse {
  running: string[];
  stopped: string[];
}
export type ImageInUse = (imageId: string) => ImageUse;

/** What the other parts need to know about an image. */
export interface ImageRecord {
  /** `sha256:<hex>`, the digest of the config bytes. */
  id: string;
  config: ImageConfigJson;
  /** Chain IDs bottom to top; the last one is the container rootfs' parent. */
  chainIds: string[];
  /** The top layer's chain ID (null for an image with no layers). */
  topChainId: string | null;
  /** Familiar `repo:tag` names, sorted. */
  repoTags: string[];
  repoDigests: string[];
  parent: string;
  size: number;
}

export interface ListOptions {
  all?: boolean;
  filters?: Filters;
  /** Compute SharedSize and Containers (system df); -1 otherwise, like dockerd. */
  extraAttributes?: boolean;
}

export interface ImportOptions {
  /** `name` or `name:tag` as the import endpoint receives it in `repo`. */
  repo?: string;
  tag?: string;
  /** Dockerfile instructions, one per entry (`CMD ["sh"]`, `ENV A=b`). */
  changes?: string[];
  message?: string;
  platform?: string;
}

export interface LayerImageOptions {
  /** The image the layer goes on top of (undefined: from scratch). */
  parentImageId?: string;
  /**
   * The new layer as an uncompressed (or gzip) tar, e.g. SnapshotStore.diffTar(key).
   * Omitted: no new layer, the history entry is marked `empty_layer` (build's ENV, CMD...).
   */
  layerTar?: Readable;
  /** The container's config (becomes the image's `config` after `changes`). */
  config?: ContainerConfigJson;
  /** What the container ran (becomes `container_config`). */
  containerConfig?: ContainerConfigJson;
  containerId?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  /** History `created_by`; defaults to the container config's Cmd joined by spaces. */
  createdBy?: string;
  repo?: string;
  tag?: string;
}

export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[];
}

export interface ImageService {
  /** An image by name, familiar name, digest reference, full or short ID; 404 `No such image: x`. */
  resolve(refOrId: string): ImageRecord;
  /** An image by its exact ID, or undefined. */
  get(id: string): ImageRecord | undefined;
  count(): number;
  list(opts?: ListOptions): ImageSummary[];
  inspect(refOrId: string): ImageInspect;
  history(refOrId: string): HistoryItem[];
  /** Tags an image; `repo` may carry the tag (`x:v1`) when `tag` is empty. Returns the familiar name. */
  tag(source: string, repo: string, tag?: string): string;
  remove(refOrId: string, opts?: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]>;
  prune(opts?: { filters?: Filters }): Promise<PruneReport>;
  usage(): DiskUsage;
  /** Loads a docker-archive or OCI layout tar; all-or-nothing. Resolves when done; throws on failure. */
  load(tar: Readable, opts?: { quiet?: boolean; progress?: Progress }): Promise<void>;
  /** Checks the names at once (404), then streams a docker-archive (legacy layout). */
  save(refs: string[]): Readable;
  /** A rootfs tar → a one-layer image. Resolves with the image ID. */
  import(tar: Readable, opts?: ImportOptions): Promise<string>;
  /** For commit and build: a new image = parent image + one layer. Resolves with the image ID. */
  createImageFromLayer(opts: LayerImageOptions): Promise<string>;
  /** The containers part registers how to tell which containers use an image. */
  setImageInUse(fn: ImageInUse): void;
  /**
   * Deletes the layers no image lists (children first), except those a container's writable
   * layer still stands on. The containers part calls it after removing a container, so the
   * layers of an image removed with `rmi -f` while the container existed go too. Resolves
   * with the removed chain IDs.
   */
  releaseUnusedLayers(): Promise<string[]>;
}

/** Publishes image events; the daemon's EventBus fits. */
export interface ImageEvents {
  publish(type: 'image', action: string, id: string, attributes?: Record<string, string>): unknown;
}

export interface ImageServiceDeps {
  store: Store;
  content: ContentStore;
  snapshots: SnapshotStore;
  events?: ImageEvents;
  isImageInUse?: ImageInUse;
  /**
   * Where `load` spools an archive's layer files while it reads them (removed when the load
   * ends). Default os.tmpdir(); the daemon should pass a directory on the state root's
   * filesystem (`<root>/tmp`), so a big load never lands on a small tmpfs.
   */
  tmpDir?: string;
}

export {
  familiarName,
  familiarString,
  type NamedRef,
  parseAnyReference,
  parseNormalizedNamed,
  refString,
  tagNameOnly,
} from './reference.js';
export { openImageService } from './service.js';
