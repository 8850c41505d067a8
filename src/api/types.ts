/**
 * What a route handler sees: a parsed request and a response with Docker's three answer
 * shapes — a JSON body, a stream that is flushed message by message (logs, events,
 * progress), and a hijacked raw connection (attach, exec).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable, Writable } from 'node:stream';

export interface Query {
  get(name: string): string | undefined;
  all(name: string): string[];
  has(name: string): boolean;
  /** Docker's three spellings: 1/0, true/false, True/False. */
  bool(name: string, fallback?: boolean): boolean;
  int(name: string, fallback?: number): number;
  /** The `filters` parameter in either encoding ({"k":{"v":true}} or {"k":["v"]}). */
  filters(): Filters;
}

/** Filter name → the accepted values. */
export type Filters = Map<string, string[]>;

export interface ApiRequest {
  method: string;
  /** Path without the version prefix, e.g. `/containers/json`. */
  path: string;
  /** The API version the client asked for (from the `/vX.Y/` prefix), or the newest one. */
  version: string;
  /** The capture groups of the route pattern, URI-decoded. */
  params: string[];
  query: Query;
  headers: IncomingHttpHeaders;
  /** True when the client asked for a protocol upgrade (attach/exec hijack). */
  upgrade: boolean;
  /** The body as a stream (tar uploads). Use either this or body()/json(), not both. */
  stream: Readable;
  body(): Promise<Buffer>;
  /** The body parsed as JSON; undefined for an empty body. 400 on malformed JSON. */
  json<T = unknown>(): Promise<T | undefined>;
  /** Resolves when the client goes away before the response has finished. */
  onClientGone(cb: () => void): void;
}

/** A hijacked connection: raw bytes both ways. */
export interface RawConnection {
  input: Readable;
  output: Writable;
  /** Closes our side (FIN); the caller stops writing after this. */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
}

export interface ApiResponse {
  readonly started: boolean;
  json(status: number, body: unknown): void;
  /** A status with no body (204, 304, 201 for tag, 200 for resize...). */
  empty(status: number): void;
  text(status: number, body: string | Buffer, contentType?: string): void;
  /**
   * Starts a streamed body: headers are flushed at once (docker run deadlocks otherwise,
   * docker-api.md §0.1). Chunked unless a length is given.
   */
  stream(status: number, contentType: string | undefined, headers?: Record<string, string>): Writable;
  /**
   * Takes over the connection: 101 UPGRADED when the client asked to upgrade, else 200 with
   * `application/vnd.docker.raw-stream` and raw bytes until close (dockerode).
   */
  hijack(): RawConnection;
}

export type Handler = (req: ApiRequest, res: ApiResponse) => Promise<void> | void;

export interface Router {
  /** pattern: a path like `/containers/:id/json`, or a RegExp over the unversioned path. */
  add(method: string, pattern: string | RegExp, handler: Handler): void;
}
