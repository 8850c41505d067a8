/**
 * Snapshots: image layers unpacked into directories, and containers' writable layers,
 * stacked with overlayfs (DESIGN.md decision 3; containerd's snapshots).
 *
 * Life cycle of a layer snapshot: `applyLayer(chainId, parent, tar)` unpacks a layer tar
 * (gzip/zstd detected, or plain) once per chain ID into `<root>/snapshots/<n>/fs`, applying
 * whiteouts against the parent chain and refusing any entry that would write outside the
 * target, and keeps the uncompressed tar beside it for `layerTar` (images keep no other copy)
 * → the directory is a read-only overlay lowerdir → `removeLayer` when no image uses it
 * (refused while another layer or a writable layer stands on it).
 * Unpacking goes to a temporary directory that is renamed into place, so a crash never leaves
 * a half-unpacked layer behind a valid record.
 *
 * Life cycle of a writable layer: `prepare(key, chainId)` makes upper/work dirs →
 * `mount(key, target)` mounts overlay(lowerdirs of the chain, upper) → `unmount` →
 * `changes(key)` lists A/C/D against the image, `diffTar(key)` exports them as a layer tar
 * (for commit) → `remove(key)`.
 */
import type { Readable } from 'node:stream';

/** `sha256:<hex>` chain ID of a layer: chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)). */
export type ChainId = string;

export interface LayerInfo {
  chainId: ChainId;
  parent: ChainId | null;
  /** sha256 of the uncompressed layer tar. */
  diffId: string;
  /** Bytes of the unpacked files of this layer alone. */
  size: number;
}

export interface Change {
  /** Absolute path inside the container, e.g. `/etc/hosts`. */
  Path: string;
  /** 0 = modified, 1 = added, 2 = deleted (Docker's `/changes` Kind). */
  Kind: 0 | 1 | 2;
}

export interface SnapshotStore {
  /**
   * Unpacks a layer on top of `parent` unless `chainId` already exists. The tar may be
   * gzip-compressed or plain. Resolves with the layer's info (the diffID is computed from
   * the uncompressed bytes and must equal the one the chain ID was derived from, else 400).
   * A tar with an unsafe entry (`..`, absolute path outside, through a symlinked parent)
   * is rejected with an error naming the entry, and nothing is kept.
   */
  applyLayer(parent: ChainId | null, tar: Readable, expectedDiffId?: string): Promise<LayerInfo>;
  hasLayer(chainId: ChainId): boolean;
  layer(chainId: ChainId): LayerInfo | undefined;
  /** The unpacked directories of a chain, topmost first (overlay lowerdir order). */
  lowerDirs(chainId: ChainId): string[];
  /**
   * A layer's own tar stream (as it was unpacked: the diff, with whiteouts), for save/push.
   * This is the one copy of the layer's tar on the host: images keep no other.
   */
  layerTar(chainId: ChainId): Readable;
  /** Bytes of `layerTar(chainId)` (a tar entry's header needs them before the body). */
  layerTarSize(chainId: ChainId): number;
  /** Deletes a layer snapshot; 409 if another layer's parent is this one. */
  removeLayer(chainId: ChainId): void;
  listLayers(): LayerInfo[];

  /** Creates a writable layer `key` (a container ID) on top of `chainId` (null = empty rootfs). */
  prepare(key: string, chainId: ChainId | null): void;
  /** Mounts the overlay for `key` at `target` (created if missing). */
  mount(key: string, target: string, opts?: { readonly?: boolean }): Promise<void>;
  unmount(target: string): Promise<void>;
  /** The upper directory of a writable layer (what the container changed). */
  upperDir(key: string): string;
  /** Async: opaque directories are read with getfattr, one call for the whole upper dir. */
  changes(key: string): Promise<Change[]>;
  /**
   * The writable layer's changes as a layer tar (whiteouts for deletions), for commit; entries
   * for which `skip` answers true are left out (their paths have no leading slash).
   */
  diffTar(key: string, skip?: (entry: DiffEntry) => boolean): Readable;
  /** Bytes used by the writable layer. */
  writableSize(key: string): number;
  remove(key: string): Promise<void>;
}

/** What `diffTar`'s filter sees of an entry. */
export interface DiffEntry {
  /** Relative to the root, no leading slash: `etc/hostname`. */
  name: string;
  type: string;
  /** Bytes, for regular files. */
  size?: number;
}

export { chainIdOf, openSnapshotStore } from './overlay-store.js';
export { type ExtractOptions, extractTar } from './tar-extract.js';
