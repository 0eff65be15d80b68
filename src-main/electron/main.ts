import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app as electronApp, BrowserWindow, dialog, safeStorage, session, shell } from 'electron';
import { createApp, type App } from '../core/app.js';
import { safeStorageCipher } from '../core/secrets/cipher.js';
import { registerIpcHost, type IpcHost } from './ipc-host.js';
import { CONTENT_SECURITY_POLICY } from '../server/http-host.js';
import { acquireDataLock } from '../server/data-lock.js';

// The thin Electron shell: window, security settings, and the IPC host. Everything else is plain Node in core/.
const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = process.env.ELECTRON_RENDERER_URL; // set by `electron-vite dev`
const rendererFile = path.join(here, '../renderer/index.html');
const rendererFileUrl = pathToFileURL(rendererFile).href;

const isTrustedUrl = (url: string): boolean =>
  devServerUrl ? url.startsWith(devServerUrl) : url.split('#')[0] === rendererFileUrl;

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
  // No navigation away from our page and no new windows; http(s) links open in the user's browser.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererFile);
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
  core = createApp({ dataDir, host: 'electron', sampleResourcesDir: path.join(electronApp.getAppPath(), 'resources'), ...(secretCipher ? { secretCipher } : {}) });
  ipc = registerIpcHost(core, isTrustedUrl);
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
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
