import { createClient } from '../src-shared/client.js';
import type { DesktopBridge } from '../src-shared/contract/index.js';
import { createHttpTransport } from '../src-shared/http-transport.js';

declare global {
  interface Window {
    /** Present in the Electron window only (the preload's bridge). */
    distillery?: DesktopBridge;
  }
}

/** The desktop bridge, when this page runs inside the Electron window. */
export const desktop: DesktopBridge | null = window.distillery ?? null;

/** The contract client: Electron IPC in the desktop app, HTTP + server-sent events in a browser. */
export const client = createClient(desktop ?? createHttpTransport(window.location.origin));
