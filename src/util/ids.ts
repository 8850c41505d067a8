import { randomBytes } from 'node:crypto';

/** A new 64-hex-digit ID, as Docker uses for containers and exec sessions. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The 12-character short form shown by `ps`, `images` and events. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
