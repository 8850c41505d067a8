// Shared set-up for the container suites: a daemon of their own with busybox loaded.
import assert from 'node:assert/strict';
import http from 'node:http';
import { makeBusyboxImageTar } from '../fixtures/busybox-image.js';
import {
  type CliResult,
  docker,
  type RawResponse,
  request,
  type StartOptions,
  type TestDaemon,
  useDaemon,
} from '../harness.js';

/** The suite's daemon (see useDaemon), with busybox loaded and then `setup` run before the first test. */
export function useBusyboxDaemon(setup?: (d: TestDaemon) => unknown, opts: StartOptions = {}): TestDaemon {
  return useDaemon(async (d) => {
    const r = docker(d, ['load'], { input: makeBusyboxImageTar() });
    assert.equal(r.code, 0, `docker load failed: ${r.stderr}\n${d.output()}`);
    await setup?.(d);
  }, opts);
}

/** Runs docker and insists on exit 0, showing stderr and the daemon log otherwise. */
export function ok(d: TestDaemon, args: string[], opts: { input?: string } = {}): string {
  const r: CliResult = docker(d, args, opts);
  assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout.trim();
}

/** `docker run -d --name NAME --network none ARGS...` (the suites need no network); the new id. */
export function runDetached(d: TestDaemon, name: string, ...args: string[]): string {
  return ok(d, ['run', '-d', '--name', name, '--network', 'none', ...args]);
}

/** `docker run --rm --network none ARGS...`, whatever its exit code. */
export function runRemoved(d: TestDaemon, args: string[], input?: string): CliResult {
  return docker(d, ['run', '--rm', '--network', 'none', ...args], input === undefined ? {} : { input });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The parts of `docker inspect` the suites look at. */
export interface Inspected {
  Id: string;
  Name: string;
  Image: string;
  Path: string;
  Args: string[];
  LogPath: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    Pid: number;
    ExitCode: number;
    OOMKilled: boolean;
    Error: string;
    FinishedAt: string;
  };
  Config: {
    Labels: Record<string, string>;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Hostname: string;
  };
  HostConfig: {
    NetworkMode: string;
    IpcMode: string;
    LogConfig: { Type: string; Config?: Record<string, string> };
    ShmSize: number;
    Memory: number;
    MemorySwap: number;
    CpuShares: number;
    PidsLimit: number | null;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
  };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

export function inspect(d: TestDaemon, name: string): Inspected {
  return (JSON.parse(ok(d, ['inspect', name])) as Inspected[])[0]!;
}

export async function until(what: string, fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A raw API call with a JSON body (for what the CLI does not expose). */
export function api(d: TestDaemon, method: string, path: string, body?: unknown): Promise<RawResponse> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers = data
    ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }
    : {};
  return request(d, method, path, { body: data, headers });
}

/**
 * A raw attach (HTTP upgrade, as the docker CLI does it): sends `input` (then FIN when
 * `end`), collects the raw output until the daemon closes or `ms` pass.
 */
export function rawAttach(
  d: TestDaemon,
  id: string,
  query: string,
  opts: { input?: string; end?: boolean; ms?: number; afterUpgrade?: () => void } = {},
): Promise<{ status: string; output: Buffer; closedByDaemon: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: d.socket,
      method: 'POST',
      path: `/v1.41/containers/${id}/attach?${query}`,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'text/plain' },
    });
    req.on('upgrade', (res, socket) => {
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (closedByDaemon: boolean) => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve({ status: String(res.statusCode), output: Buffer.concat(chunks), closedByDaemon });
      };
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => finish(true));
      socket.on('error', () => finish(true));
      if (opts.input !== undefined) socket.write(opts.input);
      if (opts.end) socket.end();
      opts.afterUpgrade?.();
      setTimeout(() => finish(false), opts.ms ?? 5000);
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({ status: String(res.statusCode), output: Buffer.from(body), closedByDaemon: true }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Splits a multiplexed (Tty=false) stream into its stdout and stderr text. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let off = 0;
  while (off + 8 <= buf.length) {
    const size = buf.readUInt32BE(off + 4);
    const data = buf.subarray(off + 8, off + 8 + size).toString();
    if (buf[off] === 2) stderr += data;
    else stdout += data;
    off += 8 + size;
  }
  return { stdout, stderr };
}
