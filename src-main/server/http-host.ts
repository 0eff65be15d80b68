import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { App } from '../core/app.js';
import type { Result } from '../../src-shared/errors.js';
import { CONTENT_SECURITY_POLICY } from '../host/csp.js';

export interface HttpHostOptions {
  app: App;
  port: number;
  /** Loopback only: the API can read any file the user can, so it must never face a network. */
  host?: '127.0.0.1' | '::1' | 'localhost';
  /** Built renderer (vite build output). Without it only the API is served. */
  staticDir?: string | null;
}

export interface HttpHost {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * The HTTP host of the contract: `POST /api/call/<op>` with the JSON input answers a `Result`; `GET /api/events` is a
 * server-sent event stream of every event. Same validation as the IPC host: the app's `call` is the only way in.
 */
export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const { app } = options;
  const bindHost = options.host ?? '127.0.0.1';
  const sockets = new Set<import('node:net').Socket>();
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: String(e) } });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS-rebinding guard: a page on another name resolving to 127.0.0.1 must not reach the API.
    if (!isLoopbackHost(req.headers.host, port)) return sendText(res, 421, 'wrong host');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/api/')) {
      // CSRF guard: browsers send Origin on cross-site requests; only our own origin may call.
      const origin = req.headers.origin;
      if (origin !== undefined && !isLoopbackOrigin(origin, port)) return sendText(res, 403, 'cross-origin request refused');
      if (url.pathname === '/api/events' && req.method === 'GET') return openEventStream(res);
      const match = /^\/api\/call\/([A-Za-z0-9._-]{1,100})$/.exec(url.pathname);
      if (match && req.method === 'POST') return answerCall(req, res, match[1]!);
      return sendJson(res, 404, { ok: false, error: { code: 'unknown_op', message: `no API at ${url.pathname}` } });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed');
    return serveStatic(res, url.pathname);
  }

  async function answerCall(req: http.IncomingMessage, res: http.ServerResponse, op: string): Promise<void> {
    // Requiring JSON forces a CORS preflight for any cross-origin caller, which we never grant.
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 415, fail('invalid_input', 'requests must be application/json'));
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) throw e;
      // The rest of the body was read and dropped, so the client gets this answer instead of a reset connection.
      res.setHeader('connection', 'close');
      return sendJson(res, 413, fail('invalid_input', `${op}: ${e.message}`));
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      return sendJson(res, 400, fail('invalid_input', `${op}: the request body is not valid JSON`));
    }
    const result = await app.call(op, input);
    sendJson(res, result.ok ? 200 : statusFor(result.error.code), result);
  }

  function openEventStream(res: http.ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    streams.add(res);
    const unsubscribe = app.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  }

  function serveStatic(res: http.ServerResponse, pathname: string): void {
    const root = options.staticDir;
    if (!root) return sendText(res, 404, 'the UI is not built; run `npm run build`');
    let rel: string;
    try {
      rel = decodeURIComponent(pathname).replace(/^\/+/, '');
    } catch {
      return sendText(res, 400, 'malformed URL: a % escape does not decode');
    }
    if (rel.includes('\0')) return sendText(res, 400, 'malformed URL: it contains a NUL byte');
    let file = path.resolve(root, rel || 'index.html');
    if (file !== root && !file.startsWith(root + path.sep)) return sendText(res, 403, 'forbidden');
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) file = path.join(root, 'index.html');
    const type = MIME[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'cache-control': type.startsWith('text/html') ? 'no-store' : 'public, max-age=3600',
    });
    fs.createReadStream(file).pipe(res);
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, bindHost, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = bindHost === '::1' ? '[::1]' : bindHost;

  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of streams) r.end();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

const fail = (code: 'invalid_input', message: string): Result<never> => ({ ok: false, error: { code, message } });

function statusFor(code: string): number {
  switch (code) {
    case 'invalid_input':
    case 'unknown_op':
      return 400;
    case 'not_found':
    case 'file_missing':
      return 404;
    case 'conflict':
    case 'file_exists':
      return 409;
    case 'file_access':
      return 403;
    case 'not_gguf':
    case 'not_a_file':
      return 422;
    case 'internal':
      return 500;
    default:
      return 500;
  }
}

function isLoopbackHost(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(hostHeader.toLowerCase());
}

function isLoopbackOrigin(origin: string, port: number): boolean {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`].includes(origin.toLowerCase());
}

class BodyTooLarge extends Error {}

/**
 * The request body, at most MAX_BODY_BYTES. A larger body is read to its end and dropped (then BodyTooLarge), so the
 * 413 reaches the client: closing the socket while it still sends makes it see a reset, not the answer. Past
 * DISCARD_LIMIT_BYTES the connection is cut anyway, so no client can keep the host reading for ever.
 */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
      else if (size > DISCARD_LIMIT_BYTES) req.destroy();
      else chunks.length = 0;
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES ? reject(new BodyTooLarge(`the request body is over ${MAX_BODY_BYTES} bytes`)) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
    req.on('close', () => reject(new BodyTooLarge('the connection closed before the request body ended')));
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
