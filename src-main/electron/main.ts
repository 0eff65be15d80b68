import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app as electronApp, BrowserWindow, dialog, protocol, safeStorage, session, shell } from 'electron';
import { createApp, type App } from '../core/app.js';
import { safeStorageCipher } from '../core/secrets/cipher.js';
import { registerIpcHost, type IpcHost } from './ipc-host.js';
import { CONTENT_SECURITY_POLICY } from '../host/csp.js';
import { acquireDataLock } from '../host/data-lock.js';
import { APP_INDEX_URL, APP_SCHEME, isAppPageUrl, resolveAppFile } from './app-protocol.js';
import { allowedExternalUrl } from './external-links.js';

// The thin Electron shell: window, security settings, and the IPC host. Everything else is plain Node in core/.
const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = process.env.ELECTRON_RENDERER_URL; // set by `electron-vite dev`
/** The renderer's build, served as app://distillery/ (never file://). */
const rendererDir = path.join(here, '../renderer');

const isTrustedUrl = (url: string): boolean => (devServerUrl ? url.startsWith(devServerUrl) : isAppPageUrl(url));

// app:// behaves like https for the page: a standard origin ('self' in the CSP), a secure context, fetch.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Serves files of the renderer's build only, with the CSP as a header (the page's meta tag carries it too). */
async function serveApp(request: Request): Promise<Response> {
  const found = resolveAppFile(rendererDir, request.url);
  if (!found.ok) return new Response(found.reason, { status: found.status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  return new Response(await fs.promises.readFile(found.file), {
    headers: { 'content-type': found.contentType, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
  });
}

/** An allowed https link opens in the user's browser once they say yes; anything else is dropped. */
async function openExternalAfterConfirm(win: BrowserWindow, raw: string): Promise<void> {
  const url = allowedExternalUrl(raw);
  if (!url) return;
  const { response } = await dialog.showMessageBox(win, {
    type: 'question',
    buttons: ['Open in browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    message: 'Open this link in your web browser?',
    detail: url,
  });
  if (response === 0) await shell.openExternal(url);
}

let core: App | null = null;
let ipc: IpcHost | null = null;
let releaseLock: (() => void) | null = null;

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Distillery',
    backgroundColor: '#111417',
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  ipc?.attach(win.webContents);
  win.once('ready-to-show', () => win.show());
  // No navigation away from our page (links, redirects, frames) and no new windows; allowed https links open in the
  // user's browser after they confirm.
  const denyUntrusted = (event: { url: string; preventDefault(): void }) => {
    if (!isTrustedUrl(event.url)) event.preventDefault();
  };
  win.webContents.on('will-navigate', denyUntrusted);
  win.webContents.on('will-redirect', denyUntrusted);
  win.webContents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame || !isTrustedUrl(event.url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    void openExternalAfterConfirm(win, url).catch(() => undefined);
    return { action: 'deny' };
  });
  void win.loadURL(devServerUrl ?? APP_INDEX_URL);
}

electronApp.enableSandbox();
electronApp.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

// One window per user: a second launch focuses the first.
if (!electronApp.requestSingleInstanceLock()) electronApp.quit();
electronApp.on('second-instance', () => {
  const win = BrowserWindow.getAllWindows()[0];
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

void electronApp.whenReady().then(() => {
  const dataDir = electronApp.getPath('userData');
  try {
    releaseLock = acquireDataLock(dataDir); // e.g. `distillery serve` already runs on this folder
  } catch (e) {
    dialog.showErrorBox('Distillery cannot start', e instanceof Error ? e.message : String(e));
    electronApp.quit();
    return;
  }
  // API keys are encrypted with the OS's keychain through safeStorage; Linux without a keyring gets only
  // "basic_text" (a fixed key), so there the app's own key (OS keyring or a 0600 key file) is used instead.
  const secretCipher =
    safeStorage.isEncryptionAvailable() && (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text')
      ? safeStorageCipher(safeStorage)
      : undefined;
  core = createApp({
    dataDir,
    host: 'electron',
    sampleResourcesDir: path.join(electronApp.getAppPath(), 'resources'),
    ...(secretCipher ? { secretCipher } : {}),
  });
  ipc = registerIpcHost(core, isTrustedUrl);
  if (!devServerUrl) session.defaultSession.protocol.handle(APP_SCHEME, serveApp);
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  createWindow();
  electronApp.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

electronApp.on('window-all-closed', () => {
  if (process.platform !== 'darwin') electronApp.quit();
});

let quitting = false;
electronApp.on('before-quit', (event) => {
  if (quitting || !core) return;
  quitting = true;
  event.preventDefault();
  ipc?.dispose();
  void core.close().finally(() => {
    releaseLock?.();
    electronApp.quit();
  });
});
