/**
 * The Docker Engine API over HTTP/1.1 on a unix socket (DESIGN.md decision 1).
 *
 * Every response carries Docker's headers (Api-Version, Ostype, ...); paths may carry a
 * `/vX.Y/` prefix, which is stripped after checking the version range; errors become
 * `{"message": ...}` with the status of the EngineError thrown. Requests that ask for a
 * protocol upgrade arrive through the server's 'upgrade' event and share the same routes.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { badRequest, EngineError, messageOf, notFound, statusOf } from '../util/errors.js';
import { logger } from '../util/log.js';
import { makeQuery } from './query.js';
import type { ApiRequest, ApiResponse, Handler, RawConnection, Router } from './types.js';

const log = logger('api');

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';
export const ENGINE_VERSION = '0.1.0';

interface Route {
  method: string;
  re: RegExp;
  handler: Handler;
}

function compileRoute(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const src = pattern
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '([^/]+)' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${src}$`);
}

function versionNumber(v: string): number {
  const [maj, min] = v.split('.').map(Number);
  return (maj ?? 0) * 1000 + (min ?? 0);
}

const commonHeaders = (): Record<string, string> => ({
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Berth/${ENGINE_VERSION} (linux)`,
});

/** Splits `/v1.41/containers/json` into version and path, rejecting unsupported versions. */
export function splitVersion(rawPath: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(rawPath);
  if (!m) return { version: API_VERSION, path: rawPath };
  const version = m[1]!;
  if (versionNumber(version) > versionNumber(API_VERSION)) {
    throw badRequest(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (versionNumber(version) < versionNumber(MIN_API_VERSION)) {
    throw badRequest(
      `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  return { version, path: m[2]! };
}

export class ApiServer implements Router {
  private readonly routes: Route[] = [];
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  add(method: string, pattern: string | RegExp, handler: Handler): void {
    this.routes.push({ method: method.toUpperCase(), re: compileRoute(pattern), handler });
  }

  private match(method: string, p: string): { route: Route; params: string[] } | undefined {
    // HEAD is answered by the GET route when there is no HEAD route of its own.
    const methods = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    for (const wanted of methods) {
      for (const route of this.routes) {
        if (route.method !== wanted) continue;
        const m = route.re.exec(p);
        if (m) return { route, params: m.slice(1).map((s) => safeDecode(s ?? '')) };
      }
    }
    return undefined;
  }

  /** Starts listening on a unix socket path (mode 660) or a TCP `host:port`. */
  async listen(address: string): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000 });
    server.on('request', (req, res) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => void this.onUpgrade(req, socket as net.Socket, head));
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    this.server = server;
    if (address.startsWith('unix://') || address.startsWith('/')) {
      const sockPath = address.replace(/^unix:\/\//, '');
      fs.mkdirSync(path.dirname(sockPath), { recursive: true });
      await removeStaleSocket(sockPath);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(sockPath, () => resolve());
      });
      fs.chmodSync(sockPath, 0o660);
    } else {
      const m = /^(?:tcp:\/\/)?([^:]+):(\d+)$/.exec(address);
      if (!m) throw new Error(`invalid --host value '${address}': expected unix:///path or tcp://host:port`);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(m[2]), m[1], () => resolve());
      });
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    const headers = commonHeaders();
    let started = false;
    const response: ApiResponse = {
      get started() {
        return started || res.headersSent;
      },
      json(status, body) {
        started = true;
        const data = `${JSON.stringify(body)}\n`;
        res.writeHead(status, {
          ...headers,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(data),
        });
        res.end(req.method === 'HEAD' ? undefined : data);
      },
      empty(status) {
        started = true;
        res.writeHead(
          status,
          status === 204 || status === 304 ? headers : { ...headers, 'Content-Length': '0' },
        );
        res.end();
      },
      text(status, body, contentType = 'text/plain; charset=utf-8') {
        started = true;
        res.writeHead(status, {
          ...headers,
          'Content-Type': contentType,
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      stream(status, contentType, extra) {
        started = true;
        const h: Record<string, string> = { ...headers, ...extra };
        if (contentType) h['Content-Type'] = contentType;
        res.writeHead(status, h);
        res.flushHeaders();
        return res;
      },
      hijack() {
        started = true;
        res.useChunkedEncodingByDefault = false;
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' });
        res.flushHeaders();
        return {
          input: req,
          output: res,
          end: () => res.end(),
          destroy: () => res.destroy(),
        };
      },
    };
    await this.dispatch(req, url, req, false, response, (cb) => {
      res.on('close', () => {
        if (!res.writableFinished) cb();
      });
    });
  }

  private async onUpgrade(req: IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    socket.on('error', () => {});
    // The request body (exec start sends JSON) arrives on the socket after the headers;
    // read exactly Content-Length bytes of it and leave the rest as the raw stream.
    const length = Number(req.headers['content-length'] ?? 0);
    let body = head;
    while (body.length < length) {
      const chunk = await readSome(socket);
      if (!chunk) break;
      body = Buffer.concat([body, chunk]);
    }
    const rest = body.subarray(length);
    body = body.subarray(0, length);
    if (rest.length > 0) socket.unshift(rest);
    const bodyStream = new PassThrough();
    bodyStream.end(body);
    let started = false;
    const writeRaw = (status: number, text: string, extra: Record<string, string>, data: Buffer | string) => {
      started = true;
      const h = { ...commonHeaders(), ...extra, 'Content-Length': String(Buffer.byteLength(data)) };
      const lines = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(`HTTP/1.1 ${status} ${text}\r\n${lines.join('')}\r\n${data}`);
    };
    const response: ApiResponse = {
      get started() {
        return started;
      },
      json(status, b) {
        writeRaw(
          status,
          http.STATUS_CODES[status] ?? '',
          { 'Content-Type': 'application/json' },
          `${JSON.stringify(b)}\n`,
        );
      },
      empty(status) {
        writeRaw(status, http.STATUS_CODES[status] ?? '', {}, '');
      },
      text(status, b, contentType = 'text/plain; charset=utf-8') {
        writeRaw(status, http.STATUS_CODES[status] ?? '', { 'Content-Type': contentType }, b);
      },
      stream(status, contentType) {
        // Streams are never answered on an upgraded connection; behave like a plain body.
        started = true;
        socket.write(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ''}Connection: close\r\n\r\n`,
        );
        return socket;
      },
      hijack(): RawConnection {
        started = true;
        socket.setNoDelay(true);
        socket.write(
          'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
        );
        return {
          input: socket,
          output: socket,
          end: () => socket.end(),
          destroy: () => socket.destroy(),
        };
      },
    };
    await this.dispatch(req, url, bodyStream, true, response, (cb) => socket.on('close', cb));
  }

  private async dispatch(
    req: IncomingMessage,
    url: URL,
    bodyStream: Readable,
    upgrade: boolean,
    res: ApiResponse,
    onGone: (cb: () => void) => void,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      const { version, path: p } = splitVersion(url.pathname);
      const found = this.match(method, p);
      if (!found) throw notFound('page not found');
      let bodyCache: Promise<Buffer> | undefined;
      const readBody = () => {
        bodyCache ??= collect(bodyStream);
        return bodyCache;
      };
      const apiReq: ApiRequest = {
        method,
        path: p,
        version,
        params: found.params,
        query: makeQuery(url.searchParams),
        headers: req.headers,
        upgrade,
        stream: bodyStream,
        body: readBody,
        async json<T>() {
          const buf = await readBody();
          const text = buf.toString('utf8').trim();
          if (!text) return undefined;
          try {
            return JSON.parse(text) as T;
          } catch (e) {
            throw badRequest(`invalid JSON in request body: ${messageOf(e)}`);
          }
        },
        onClientGone: onGone,
      };
      log.debug(`${method} ${url.pathname}${url.search}`);
      await found.route.handler(apiReq, res);
      if (!res.started) res.empty(204);
    } catch (e) {
      const status = statusOf(e);
      if (!(e instanceof EngineError)) log.error(`${method} ${url.pathname}: ${(e as Error)?.stack ?? e}`);
      if (res.started) {
        log.warn(`error after the response started: ${messageOf(e)}`);
        return;
      }
      if (status === 304) res.empty(304);
      else res.json(status, { message: messageOf(e) });
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function readSome(socket: net.Socket): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const onData = (c: Buffer) => {
      cleanup();
      socket.pause();
      resolve(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** Refuses to take over a socket another daemon still answers on; removes a dead one. */
async function removeStaleSocket(sockPath: string): Promise<void> {
  if (!fs.existsSync(sockPath)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(sockPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another daemon is already listening on ${sockPath}`);
  fs.unlinkSync(sockPath);
}
