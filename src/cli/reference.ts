// Docker image references as the CLI shows and sends them: `busybox` ⇄
// `docker.io/library/busybox:latest`. Enough of distribution/reference for display and for the
// fully-qualified names the docker CLI puts in queries (tag, commit, import).

export interface ImageRef {
  domain: string;
  path: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

const DEFAULT_DOMAIN = 'docker.io';

export class InvalidReferenceError extends Error {}

/** Parses and normalizes; returns null when the string is not a valid reference. */
export function parseNormalizedNamed(s: string): ImageRef | null {
  try {
    return parseReference(s);
  } catch {
    return null;
  }
}

export function parseReference(s: string): ImageRef {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(digest))
      throw new InvalidReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new InvalidReferenceError('invalid reference format');
  }
  if (rest === '') throw new InvalidReferenceError('invalid reference format');
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (
    slash >= 0 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())
  ) {
    domain = first;
    path = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (path !== path.toLowerCase())
    throw new InvalidReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
  const comp = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
  if (!path.split('/').every((c) => comp.test(c)))
    throw new InvalidReferenceError('invalid reference format');
  return { domain, path, tag, digest };
}

export function familiarName(ref: ImageRef): string {
  if (ref.domain === DEFAULT_DOMAIN) {
    const p =
      ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice(8) : ref.path;
    return p;
  }
  return `${ref.domain}/${ref.path}`;
}

export function familiarString(ref: ImageRef): string {
  return familiarName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

export function fullName(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** Adds :latest when neither tag nor digest is given (reference.TagNameOnly). */
export function withDefaultTag(ref: ImageRef): ImageRef {
  return ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' };
}
