import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { DesktopBridge, EventEnvelope } from '../../src-shared/contract/index.js';
import type { Result } from '../../src-shared/errors.js';
import { IPC } from './channels.js';

// The only surface the page gets: contract calls, events, and three desktop helpers. Never a raw `invoke`.
const bridge: DesktopBridge = {
  call: (op, input) => ipcRenderer.invoke(IPC.call, op, input) as Promise<Result<unknown>>,
  subscribe(listener) {
    const handler = (_e: IpcRendererEvent, event: EventEnvelope) => listener(event);
    ipcRenderer.on(IPC.event, handler);
    return () => ipcRenderer.off(IPC.event, handler);
  },
  pickFile: (options) => ipcRenderer.invoke(IPC.pickFile, options) as Promise<string | null>,
  pickFolder: (options) => ipcRenderer.invoke(IPC.pickFolder, options) as Promise<string | null>,
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('distillery', bridge);
