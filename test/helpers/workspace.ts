import { tempDir } from './tmp.js';
import { createApp, type App, type AppOptions } from '../../src-main/core/app.js';
import { createClient, type Client } from '../../src-shared/client.js';

export interface Workspace {
  dir: string;
  app: App;
  client: Client;
  close(): Promise<void>;
}

export { tempDir };

/** A fresh data folder with a real app (real SQLite file, real engine on CPU) and a client over the in-process host. */
export function makeWorkspace(options: Partial<AppOptions> = {}): Workspace {
  const dir = options.dataDir ?? tempDir();
  const app = createApp({ dataDir: dir, host: 'http', gpu: false, ...options });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  return {
    dir,
    app,
    client,
    async close() {
      await app.close();
    },
  };
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
