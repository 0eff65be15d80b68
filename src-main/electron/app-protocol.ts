import fs from 'node:fs';
import path from 'node:path';

// The desktop window loads the renderer from app://distillery/ instead of file://: a file:// page may read any file
// the user can (fetch, <img>, frames), and every file:// URL is the same origin. This module is plain Node (no
// electron import) so that the path checks are unit-tested without the Electron binary.

export const APP_SCHEME = 'app';
export const APP_HOST = 'distillery';
/** The page the window loads; the renderer routes with the hash (#/datasets/…). */
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** True for our page itself (any #route), never for another file, host or scheme. */
export function isAppPageUrl(url: string): boolean {
  return url.split('#')[0] === APP_INDEX_URL;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export type AppFile = { ok: true; file: string; contentType: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/**
 * The file an app:// request names inside `root` (the renderer's build folder), or why not: another host, a malformed
 * or NUL-carrying path (400), a path leaving the folder by `..`, an absolute path or a symlink (403), nothing there
 * (404). `/` is index.html.
 */
export function resolveAppFile(root: string, requestUrl: string): AppFile {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: 'not a URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { ok: false, status: 403, reason: `not ${APP_SCHEME}://${APP_HOST}/` };
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed escape in the path' };
  }
  if (rel.includes('\0')) return { ok: false, status: 400, reason: 'NUL in the path' };
  rel = rel.replace(/^\/+/, '') || 'index.html';
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    return { ok: false, status: 404, reason: 'the UI is not built (npm run build)' };
  }
  const inside = (p: string) => p.startsWith(realRoot + path.sep);
  const file = path.resolve(realRoot, rel);
  if (!inside(file)) return { ok: false, status: 403, reason: 'outside the UI folder' };
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return { ok: false, status: 404, reason: 'no such file' };
  }
  if (!inside(real)) return { ok: false, status: 403, reason: 'a link out of the UI folder' };
  if (!fs.statSync(real).isFile()) return { ok: false, status: 404, reason: 'not a file' };
  return { ok: true, file: real, contentType: MIME[path.extname(real).toLowerCase()] ?? 'application/octet-stream' };
}
