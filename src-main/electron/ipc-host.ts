import { ipcMain, dialog, BrowserWindow, type IpcMainInvokeEvent, type OpenDialogOptions, type WebContents } from 'electron';
import { z } from 'zod';
import type { App } from '../core/app.js';
import { IPC } from './channels.js';

export interface IpcHost {
  /** Sends events to this window's contents from now on. */
  attach(contents: WebContents): void;
  dispose(): void;
}

const PickFile = z.strictObject({
  title: z.string().max(200),
  extensions: z.array(z.string().regex(/^[a-z0-9]{1,10}$/i)).max(10),
});
const PickFolder = z.strictObject({ title: z.string().max(200) });

/**
 * The Electron host of the contract. One channel carries every operation, and the app's `call` validates the op name
 * and its input against the contract. Only the main frame of our own page may call (VS Code's validatedIpcMain idea).
 */
export function registerIpcHost(app: App, isTrustedUrl: (url: string) => boolean): IpcHost {
  const targets = new Set<WebContents>();
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    return frame !== null && frame === event.sender.mainFrame && targets.has(event.sender) && isTrustedUrl(frame.url);
  };

  ipcMain.handle(IPC.call, (event, op: unknown, input: unknown) =>
    trusted(event) ? app.call(op, input) : { ok: false, error: { code: 'invalid_input', message: 'call refused: it did not come from the Distillery window' } },
  );

  const showDialog = async (event: IpcMainInvokeEvent, options: OpenDialogOptions): Promise<string | null> => {
    const win = BrowserWindow.fromWebContents(event.sender);
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  };
  ipcMain.handle(IPC.pickFile, (event, raw: unknown) => {
    const opts = PickFile.safeParse(raw);
    if (!trusted(event) || !opts.success) return null;
    return showDialog(event, {
      title: opts.data.title,
      properties: ['openFile'],
      filters: [{ name: opts.data.extensions.join(', ').toUpperCase(), extensions: opts.data.extensions }],
    });
  });
  ipcMain.handle(IPC.pickFolder, (event, raw: unknown) => {
    const opts = PickFolder.safeParse(raw);
    if (!trusted(event) || !opts.success) return null;
    return showDialog(event, { title: opts.data.title, properties: ['openDirectory'] });
  });

  const unsubscribe = app.subscribe((event) => {
    for (const wc of targets) if (!wc.isDestroyed()) wc.send(IPC.event, event);
  });

  return {
    attach(contents) {
      targets.add(contents);
      contents.once('destroyed', () => targets.delete(contents));
    },
    dispose() {
      unsubscribe();
      for (const ch of [IPC.call, IPC.pickFile, IPC.pickFolder]) ipcMain.removeHandler(ch);
    },
  };
}
