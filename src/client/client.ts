/**
 * Docker Engine API client: the only way the CLI reaches a daemon (DESIGN.md decision 1).
 *
 * Life cycle: `DockerClient.fromEnv(hostFlag)` picks the daemon (`-H`, BERTH_HOST, DOCKER_HOST,
 * then the default socket) → `negotiate()` sends `HEAD /_ping` and pins the path prefix to
 * `/v{min(1.41, server)}/` → requests reuse keep-alive connections; `stream()` hands back a
 * response body while it is still arriving (logs -f, events, progress), `hijack()` upgrades a
 * connection to a raw duplex socket (attach, exec start), `demux()` splits the 8-byte framed
 * stdout/stderr stream of non-TTY containers. A daemon error body `{"message"}` becomes ApiError.
 */
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { type DaemonAddress, parseHost } from './host.js';

export { Demuxer, demux, type StreamType } from './demux.js';
export { type DaemonAddress, parseHost } from './host.js';
export { jsonLines } from './json-lines.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
/** The newest API version whose behaviour berth's client speaks (docker-api.md §1.4). */
export const CLIENT_API_VERSION = '1.41';

/** The daemon answered with an error status; `message` is Docker's `{"message"}` text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Nothing answers at the daemon address (no socket, refused, unreachable). */
export class ConnectError extends Error {
  constructor(
    readonly host: string,
    readonly reason: Error,
  ) {
    super(`Cannot connect to the Berth daemon at ${host}. Is berthd running? Start it with: sudo berthd &`);
    this.name = 'ConnectError';
  }
}

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** Plain objects go as JSON; Buffers and streams as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Abort the request (and its response stream). */
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface PingInfo {
  apiVersion: string;
  osType: string;
  experimental: boolean;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else if (typeof v === 'boolean') params.append(k, v ? '1' : '0');
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Docker's error text from an error response body (JSON `{"message"}` or plain text). */
export function errorMessage(status: number, body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && 'message' in parsed) {
        const m = (parsed as { message: unknown }).message;
        if (typeof m === 'string') return m;
      }
    } catch {
      // not JSON after all: show the text
    }
  }
  return text || `request returned ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
}

export class DockerClient {
  readonly address: DaemonAddress;
  /** Path prefix version, fixed by negotiate(). */
  apiVersion = CLIENT_API_VERSION;
  private negotiated = false;
  private readonly agent: http.Agent;

  constructor(readonly host: string = DEFAULT_HOST) {
    this.address = parseHost(host);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** `-H` beats BERTH_HOST beats DOCKER_HOST beats the default socket. */
  static fromEnv(hostFlag?: string, env: NodeJS.ProcessEnv = process.env): DockerClient {
    const host = hostFlag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
    return new DockerClient(host);
  }

  close(): void {
    this.agent.destroy();
  }

  private baseOptions(method: string, path: string, headers: Record<string, string>): http.RequestOptions {
    const a = this.address;
    const opts: http.RequestOptions = { method, path, headers: { Host: 'api.moby.localhost', ...headers } };
    if (a.kind === 'unix') opts.socketPath = a.path;
    else {
      opts.host = a.hostname;
      opts.port = a.port;
    }
    return opts;
  }

  private versioned(path: string): string {
    return path === '/_ping' ? path : `/v${this.apiVersion}${path}`;
  }

  /** Pings the daemon and settles the API version; repeated calls are free. */
  async negotiate(): Promise<PingInfo> {
    const res = await this.send('HEAD', '/_ping', {});
    res.resume();
    const header = res.headers['api-version'];
    const server = typeof header === 'string' && header ? header : '1.24';
    this.apiVersion = compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
    this.negotiated = true;
    const os = res.headers.ostype;
    return {
      apiVersion: server,
      osType: typeof os === 'string' ? os : '',
      experimental: res.headers['docker-experimental'] === 'true',
    };
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = {
      'User-Agent': 'Berth-Client/0.1.0 (linux)',
      ...(opts.headers ?? {}),
    };
    let payload: Buffer | Readable | undefined;
    const body = opts.body;
    if (body === undefined || body === null) {
      if (method === 'POST' || method === 'PUT') headers['Content-Length'] = '0';
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
      headers['Content-Type'] ??= 'text/plain';
      headers['Content-Length'] = String(payload.length);
    } else if (isReadable(body)) {
      payload = body;
      headers['Content-Type'] ??= 'text/plain';
    } else {
      payload = Buffer.from(`${JSON.stringify(body)}\n`);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const reqOpts = this.baseOptions(method, path + encodeQuery(opts.query), headers);
    reqOpts.agent = this.agent;
    if (opts.signal) reqOpts.signal = opts.signal;
    return new Promise((resolve, reject) => {
      const req = http.request(reqOpts, resolve);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (
          err.code === 'ECONNREFUSED' ||
          err.code === 'ENOENT' ||
          err.code === 'EACCES' ||
          err.code === 'EHOSTUNREACH'
        ) {
          reject(new ConnectError(this.host, err));
        } else reject(err);
      });
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (e) => req.destroy(e));
        payload.pipe(req);
      }
    });
  }

  /** Sends a request on the versioned path and throws ApiError on 4xx/5xx; the body stays a stream. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    if (!this.negotiated && path !== '/_ping') await this.negotiate();
    const res = await this.send(method, this.versioned(path), opts);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const body = await readAll(res);
      throw new ApiError(status, errorMessage(status, body));
    }
    return res;
  }

  /** A whole request/response; the body is buffered. Error statuses throw ApiError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const res = await this.stream(method, path, opts);
    const body = await readAll(res);
    return { status: res.statusCode ?? 0, headers: res.headers, body };
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = res.body.toString('utf8');
    if (!text.trim()) return undefined as T;
    return JSON.parse(text) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, { query });
  }

  /**
   * POST with `Connection: Upgrade, Upgrade: tcp`; resolves with the raw socket after the 101
   * (bytes that arrived with the headers are put back in front). Any other status is an error,
   * worded like docker's for a non-error status.
   */
  async hijack(path: string, query?: Query, body?: unknown): Promise<Duplex> {
    if (!this.negotiated) await this.negotiate();
    const headers: Record<string, string> = {
      'User-Agent': 'Berth-Client/0.1.0 (linux)',
      Connection: 'Upgrade',
      Upgrade: 'tcp',
    };
    let payload: Buffer;
    if (body === undefined) {
      payload = Buffer.alloc(0);
      headers['Content-Type'] = 'text/plain';
    } else {
      payload = Buffer.from(`${JSON.stringify(body)}\n`);
      headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = String(payload.length);
    const reqOpts = this.baseOptions('POST', this.versioned(path) + encodeQuery(query), headers);
    reqOpts.agent = false;
    return new Promise((resolve, reject) => {
      const req = http.request(reqOpts);
      req.on('upgrade', (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        readAll(res).then((b) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) reject(new ApiError(status, errorMessage(status, b)));
          else reject(new Error(`unable to upgrade to tcp, received ${status}`));
        }, reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') reject(new ConnectError(this.host, err));
        else reject(err);
      });
      req.end(payload);
    });
  }
}
