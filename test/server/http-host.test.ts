import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpHost, type HttpHost } from '../../src-main/server/http-host.js';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { callHttp } from '../helpers/server.js';
import { createHttpTransport } from '../../src-shared/http-transport.js';
import type { EventEnvelope } from '../../src-shared/contract/index.js';

let ws: Workspace;
let host: HttpHost;
let staticDir: string;
beforeAll(async () => {
  ws = makeWorkspace();
  staticDir = tempDir();
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Distillery</title>');
  fs.writeFileSync(path.join(staticDir, 'app.js'), 'console.log(1)');
  host = await startHttpHost({ app: ws.app, port: 0, staticDir });
});
afterAll(async () => {
  await host.close();
  await ws.close();
});

describe('HTTP host', () => {
  it('binds to loopback and answers contract calls as Results', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await callHttp(host.url, 'settings.get', {})).toEqual({ ok: true, value: { inferenceThreads: null } });
    const bad = await callHttp(host.url, 'models.get', { id: -1 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'id' } });
    const unknown = await callHttp(host.url, 'fs.delete', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_op' } });
  });

  it('refuses non-JSON bodies, cross-origin callers and foreign Host headers', async () => {
    const text = await fetch(`${host.url}/api/call/settings.get`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const broken = await fetch(`${host.url}/api/call/settings.get`, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(await broken.json()).toMatchObject({ ok: false, error: { code: 'invalid_input', message: 'settings.get: the request body is not valid JSON' } });
    const cross = await fetch(`${host.url}/api/call/settings.get`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
    const port = new URL(host.url).port;
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `attacker.example:${port}` } }, (r) => resolve(r.statusCode ?? 0));
    });
    expect(status).toBe(421);
  });

  it('answers 413 to an oversized body (the client reads the answer, no reset) and 400 to a malformed escape', async () => {
    const big = await fetch(`${host.url}/api/call/settings.get`, {
      method: 'POST',
      body: `"${'x'.repeat(3 * 1024 * 1024)}"`,
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ ok: false, error: { code: 'invalid_input', message: 'settings.get: the request body is over 2097152 bytes' } });
    // The host still answers afterwards.
    expect((await callHttp(host.url, 'settings.get', {})).ok).toBe(true);

    for (const bad of ['/%E0%A4%A', '/%', '/app%ZZ.js']) {
      const res = await fetch(`${host.url}${bad}`);
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toBe('malformed URL: a % escape does not decode');
    }
    expect((await fetch(`${host.url}/app%00.js`)).status).toBe(400);
  });

  it('names the file and the reason for file errors, never a raw Node error', async () => {
    const loop = path.join(tempDir(), 'loop.jsonl');
    fs.symlinkSync(loop, loop);
    const r = await callHttp(host.url, 'datasets.previewImport', { path: loop });
    expect(r.error).toMatchObject({ code: 'file_access', message: `${loop}: too many levels of symbolic links (a symlink that points back to itself?)` });
    const nul = await callHttp(host.url, 'models.add', { path: '/tmp/x\0.gguf' });
    expect(nul.error).toMatchObject({ code: 'invalid_input', field: 'path' });
    expect(nul.error!.message).toContain('NUL byte');
  });

  it('streams events over server-sent events', async () => {
    const controller = new AbortController();
    const raw = await fetch(`${host.url}/api/events`, { signal: controller.signal });
    expect(raw.headers.get('content-type')).toMatch(/text\/event-stream/);
    controller.abort();

    const transport = createHttpTransport(host.url);
    try {
      const first = new Promise<EventEnvelope>((resolve) => transport.subscribe(resolve));
      await transport.ready; // the stream is open, so the host has subscribed it to the app's events
      await callHttp(host.url, 'settings.update', { inferenceThreads: 2 });
      expect(await first).toEqual({ name: 'settings.changed', payload: { inferenceThreads: 2 } });
    } finally {
      transport.close();
    }
  });

  it('serves the built UI with a strict CSP and never outside its folder', async () => {
    const index = await fetch(`${host.url}/`);
    expect(await index.text()).toContain('<title>Distillery</title>');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const js = await fetch(`${host.url}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const escape = await fetch(`${host.url}/..%2f..%2f..%2fetc%2fpasswd`);
    expect(escape.status).toBe(403);
    const deep = await fetch(`${host.url}/#/models/3`);
    expect(await deep.text()).toContain('<title>Distillery</title>');
  });
});
