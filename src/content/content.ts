/**
 * The content store: immutable blobs (layer tars, image configs, manifests) keyed by their
 * sha256 digest, like containerd's core/content.
 *
 * Life cycle of a blob: ingest (bytes are hashed while written to a temporary file under
 * `<root>/content/ingest/`) → commit (the digest and size are checked against what the
 * caller expected, the file is fsync'ed and renamed to `<root>/content/blobs/sha256/<hex>`)
 * → visible (readable by digest) → delete (when no image references it any more).
 * A blob that fails verification never becomes visible; a crash mid-ingest leaves only a
 * temporary file, which `open` sweeps away. Writing the same content twice stores it once.
 */
import type { Readable } from 'node:stream';

/** `sha256:<64 hex>` */
export type Digest = string;

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface Expected {
  /** If given, the ingest fails (and nothing is stored) unless the content hashes to it. */
  digest?: Digest;
  /** If given, the ingest fails unless exactly this many bytes arrive. */
  size?: number;
}

export interface ContentStore {
  /** Stores a blob; resolves with its digest and size once it is durable and visible. */
  ingest(data: Readable | Buffer, expected?: Expected): Promise<BlobInfo>;
  has(digest: Digest): boolean;
  info(digest: Digest): BlobInfo | undefined;
  /** Absolute path of a committed blob (for zero-copy reads); 404 EngineError if absent. */
  path(digest: Digest): string;
  read(digest: Digest): Readable;
  readBuffer(digest: Digest): Promise<Buffer>;
  delete(digest: Digest): void;
  list(): BlobInfo[];
}

export { openContentStore } from './local-store.js';
