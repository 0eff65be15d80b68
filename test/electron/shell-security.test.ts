import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_INDEX_URL, isAppPageUrl, resolveAppFile } from '../../src-main/electron/app-protocol.js';
import { allowedExternalUrl } from '../../src-main/electron/external-links.js';
import { tempDir } from '../helpers/tmp.js';

// The desktop window's app:// protocol and its external-link allow-list, as plain functions on real files (the
// Electron binary cannot run here; main.ts only wires these into protocol.handle and setWindowOpenHandler).

let root: string;
let outside: string;
beforeAll(() => {
  const base = tempDir();
  root = path.join(base, 'renderer');
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
  fs.writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'assets', 'my file.css'), 'body{}');
  outside = path.join(base, 'secret.txt');
  fs.writeFileSync(outside, 'not for the page');
  fs.writeFileSync(path.join(base, 'renderer-evil.js'), 'sibling folder with the same prefix');
  fs.symlinkSync(outside, path.join(root, 'assets', 'link.txt'));
  fs.symlinkSync(path.join(root, 'index.html'), path.join(root, 'assets', 'inside-link.html'));
});

describe('app:// serves the renderer build and nothing else', () => {
  it('serves index.html for / and files of the build with their type', () => {
    expect(resolveAppFile(root, 'app://distillery/')).toEqual({
      ok: true,
      file: fs.realpathSync(path.join(root, 'index.html')),
      contentType: 'text/html; charset=utf-8',
    });
    expect(resolveAppFile(root, APP_INDEX_URL)).toMatchObject({ ok: true, contentType: 'text/html; charset=utf-8' });
    expect(resolveAppFile(root, 'app://distillery/assets/index-abc.js?v=1#x')).toMatchObject({
      ok: true,
      file: fs.realpathSync(path.join(root, 'assets', 'index-abc.js')),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(resolveAppFile(root, 'app://distillery/assets/my%20file.css')).toMatchObject({ ok: true, contentType: 'text/css; charset=utf-8' });
    expect(resolveAppFile(root, 'app://distillery/assets/inside-link.html')).toMatchObject({ ok: true });
  });

  it('refuses paths out of the folder, however they are spelled', () => {
    for (const url of [
      'app://distillery/..%2fsecret.txt',
      'app://distillery/assets/..%2F..%2Fsecret.txt',
      'app://distillery/..%2frenderer-evil.js',
      'app://distillery/assets/link.txt',
    ]) {
      expect(resolveAppFile(root, url), url).toMatchObject({ ok: false, status: 403 });
    }
    // dot segments (also escaped ones) are resolved by the URL parser itself and stay inside: nothing is there
    // and an escaped absolute path is read below the folder
    for (const url of ['app://distillery/../../secret.txt', 'app://distillery/%2e%2e/secret.txt', `app://distillery/${encodeURIComponent(outside)}`]) {
      expect(resolveAppFile(root, url), url).toMatchObject({ ok: false, status: 404 });
    }
  });

  it('refuses other hosts and schemes, malformed escapes, NUL, folders and missing files', () => {
    expect(resolveAppFile(root, 'app://other/index.html')).toMatchObject({ ok: false, status: 403 });
    expect(resolveAppFile(root, 'file:///etc/passwd')).toMatchObject({ ok: false, status: 403 });
    expect(resolveAppFile(root, 'app://distillery/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
    expect(resolveAppFile(root, 'app://distillery/index.html%00.js')).toMatchObject({ ok: false, status: 400 });
    expect(resolveAppFile(root, 'app://distillery/assets')).toMatchObject({ ok: false, status: 404 });
    expect(resolveAppFile(root, 'app://distillery/nope.js')).toMatchObject({ ok: false, status: 404 });
    expect(resolveAppFile(path.join(root, 'not-built'), APP_INDEX_URL)).toMatchObject({
      ok: false,
      status: 404,
      reason: expect.stringContaining('npm run build'),
    });
  });

  it('trusts only our page (any #route) for IPC and navigation', () => {
    expect(isAppPageUrl(APP_INDEX_URL)).toBe(true);
    expect(isAppPageUrl(`${APP_INDEX_URL}#/datasets/support@2`)).toBe(true);
    for (const url of [
      'app://distillery/assets/index-abc.js',
      'app://distillery/index.html?x=1',
      'app://evil/index.html',
      'file:///index.html',
      'https://distillery/index.html',
    ]) {
      expect(isAppPageUrl(url), url).toBe(false);
    }
  });
});

describe('external links', () => {
  it('allows https links to the allow-listed hosts and their subdomains', () => {
    expect(allowedExternalUrl('https://huggingface.co/datasets/tatsu-lab/alpaca')).toBe('https://huggingface.co/datasets/tatsu-lab/alpaca');
    expect(allowedExternalUrl('https://github.com/ggml-org/llama.cpp#readme')).toBe('https://github.com/ggml-org/llama.cpp#readme');
    expect(allowedExternalUrl('https://docs.github.com/en')).toBe('https://docs.github.com/en');
    expect(allowedExternalUrl('HTTPS://HuggingFace.co/models')).toBe('https://huggingface.co/models');
  });

  it('refuses other schemes, hosts, look-alikes, credentials and ports', () => {
    for (const url of [
      'http://huggingface.co/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://server/share',
      'ms-settings:privacy',
      'https://example.com/',
      'https://huggingface.co.evil.com/',
      'https://evilgithub.com/',
      'https://github.com@evil.com/',
      'https://user:pass@github.com/',
      'https://github.com:8443/',
      'not a url',
    ]) {
      expect(allowedExternalUrl(url), url).toBeNull();
    }
  });
});
