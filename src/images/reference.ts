/**
 * Docker image references: the grammar of distribution/reference and the normalisation of
 * docker's `ParseNormalizedNamed` / `FamiliarString`, so names resolve and print exactly
 * as dockerd resolves and prints them (`busybox` → `docker.io/library/busybox:latest`,
 * shown as `busybox:latest`).
 */
import { badRequest } from '../util/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const namePattern = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;

const referenceRe = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredTagRe = new RegExp(`^${tagPattern}$`);
const anchoredDomainRe = new RegExp(`^${domain}$`);
const identifierRe = /^[a-f0-9]{64}$/;
const sha256DigestRe = /^sha256:[a-f0-9]{64}$/;

export const INVALID_FORMAT = 'invalid reference format';

/** A parsed, fully-qualified name with an optional tag and digest. */
export interface NamedRef {
  /** e.g. `docker.io` or `127.0.0.1:5000` */
  domain: string;
  /** e.g. `library/busybox` */
  path: string;
  tag?: string;
  /** `sha256:<hex>` */
  digest?: string;
}

/** What a string given by a user names: an image by name, or an image by its ID (digest). */
export type AnyRef = { kind: 'named'; ref: NamedRef } | { kind: 'id'; id: string };

/** `docker.io/library/busybox` */
export function fullName(r: NamedRef): string {
  return r.domain ? `${r.domain}/${r.path}` : r.path;
}

/** The fully-qualified string: `docker.io/library/busybox:latest`, `x@sha256:…`. */
export function refString(r: NamedRef): string {
  return `${fullName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The short name as docker shows it: `busybox`, `user/img`, `127.0.0.1:5000/ar/x`. */
export function familiarName(r: NamedRef): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  const parts = r.path.split('/');
  if (parts.length === 2 && parts[0] === 'library') return parts[1]!;
  return r.path;
}

/** `busybox:latest`, `127.0.0.1:5000/ar/x:v1`, `busybox@sha256:…` */
export function familiarString(r: NamedRef): string {
  return `${familiarName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** Adds `:latest` when a reference has neither tag nor digest (docker's TagNameOnly). */
export function tagNameOnly(r: NamedRef): NamedRef {
  if (r.tag === undefined && r.digest === undefined) return { ...r, tag: 'latest' };
  return r;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/** distribution/reference's Parse of an already fully-qualified string. */
function parseQualified(s: string): NamedRef {
  const m = referenceRe.exec(s);
  if (!m) {
    if (s === '') throw badRequest('repository name must have at least one component');
    if (referenceRe.test(s.toLowerCase())) {
      throw badRequest(`${INVALID_FORMAT}: repository name must be lowercase`);
    }
    throw badRequest(INVALID_FORMAT);
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw badRequest(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const slash = name.indexOf('/');
  let domain = '';
  let path = name;
  // The grammar makes the first component a domain only when a path follows it.
  if (slash !== -1 && anchoredDomainRe.test(name.slice(0, slash))) {
    domain = name.slice(0, slash);
    path = name.slice(slash + 1);
  }
  const ref: NamedRef = { domain, path };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = validateDigest(m[3]);
  return ref;
}

function validateDigest(d: string): string {
  const [alg, hex] = d.split(':') as [string, string];
  if (alg !== 'sha256') {
    if (alg === 'sha384' || alg === 'sha512') return d;
    throw badRequest('unsupported digest algorithm');
  }
  if (hex.length !== 64) throw badRequest('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw badRequest('invalid checksum digest format');
  return d;
}

/**
 * docker's ParseNormalizedNamed: a user-typed name → a fully-qualified reference.
 * 400 EngineError with docker's message when it is not a valid name.
 */
export function parseNormalizedNamed(s: string): NamedRef {
  if (identifierRe.test(s)) {
    throw badRequest(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw badRequest(`${INVALID_FORMAT}: repository name (${remoteName}) must be lowercase`);
  }
  const ref = parseQualified(`${domain}/${remainder}`);
  // The split above decides the domain (Go's name regexp would make any first component one).
  const name = ref.domain ? fullName(ref) : ref.path;
  if (!name.startsWith(`${domain}/`)) return ref;
  return { ...ref, domain, path: name.slice(domain.length + 1) };
}

/**
 * docker's ParseAnyReference: a 64-hex string or `sha256:<64 hex>` is an image ID,
 * anything else must be a name.
 */
export function parseAnyReference(s: string): AnyRef {
  if (identifierRe.test(s)) return { kind: 'id', id: `sha256:${s}` };
  if (sha256DigestRe.test(s)) return { kind: 'id', id: s };
  return { kind: 'named', ref: parseNormalizedNamed(s) };
}

/** `repo` + optional `tag` as the tag and commit endpoints receive them. */
export function withTag(r: NamedRef, tag: string): NamedRef {
  if (!anchoredTagRe.test(tag)) throw badRequest('invalid tag format');
  const out: NamedRef = { domain: r.domain, path: r.path, tag };
  return out;
}

/** docker's isImageIDPrefix: `s` is a prefix of the ID, with or without `sha256:`. */
export function isImageIdPrefix(imageId: string, s: string): boolean {
  if (s === '') return false;
  return imageId.startsWith(s) || imageId.replace(/^sha256:/, '').startsWith(s);
}

/** path.Match from Go (`*`, `?`, `[...]` classes; `*` does not cross `/`). */
export function goPathMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) throw badRequest(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      else if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i]!);
    } else re += escapeRe(c);
  }
  re += '$';
  return new RegExp(re).test(name);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** docker's FamiliarMatch: the pattern against the familiar string, then the familiar name. */
export function familiarMatch(pattern: string, r: NamedRef): boolean {
  return goPathMatch(pattern, familiarString(r)) || goPathMatch(pattern, familiarName(r));
}
