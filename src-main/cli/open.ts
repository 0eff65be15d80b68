// Opening the library for a command. The app (SQLite, node-llama-cpp, every service), the contract client and the
// data lock are imported here on first use, not at start-up, so `--help` and `--version` load none of them.
import path from 'node:path';
import type { App } from '../core/app.js';
import type { Client } from '../../src-shared/client.js';
import { print, runDetails, type Io } from './output.js';
import { dataDirOf, parseId, type Common } from './options.js';

/** The app and the contract client, imported when a command first needs them. */
export async function loadCore() {
  const [{ createApp }, { createClient }, { acquireDataLock }] = await Promise.all([
    import('../core/app.js'),
    import('../../src-shared/client.js'),
    import('../host/data-lock.js'),
  ]);
  return { createApp, createClient, acquireDataLock };
}

/** Opens the library for a one-shot command: no job runner (the desktop app or `serve` owns that). */
export async function withClient<T>(io: Io, opts: Common, fn: (client: Client, app: App) => Promise<T>): Promise<T> {
  const { createApp, createClient } = await loadCore();
  const app = createApp({ dataDir: dataDirOf(io, opts), host: 'http', runJobs: false, env: io.env });
  try {
    return await fn(createClient({ call: app.call, subscribe: app.subscribe }), app);
  } finally {
    await app.close();
  }
}

/** A command that calls the library once: the result goes to stdout, as JSON with --json, else as `text(result)`. */
export function callAndPrint<T>(io: Io, opts: Common, call: (client: Client) => Promise<T>, text: (result: T) => string): Promise<void> {
  return withClient(io, opts, async (c) => {
    const result = await call(c);
    print(io, opts, result, () => text(result));
  });
}

/**
 * Runs one job in this process, which must own the data folder (no desktop app or `serve` on it): progress goes to
 * stderr, the finished run to stdout. Ctrl+C cancels the run (it stays resumable). The app and the data lock are closed
 * and released before it returns, whichever way it ends, so the process can run the next command.
 */
export async function runToEnd(
  io: Io,
  opts: Common,
  start: (client: Client) => Promise<{ runId: number }>,
  /**
   * What the run made, printed after it (text) and added to its JSON under `key`; with `alone`, printed instead of the
   * run (`value` is the JSON, `text` the whole text).
   */
  after?: (client: Client, runId: number) => Promise<{ key: string; value: unknown; text: string; alone?: boolean }>,
): Promise<void> {
  const { createApp, createClient, acquireDataLock } = await loadCore();
  const dataDir = dataDirOf(io, opts);
  const release = acquireDataLock(dataDir);
  let app: App;
  try {
    app = createApp({ dataDir, host: 'http', env: io.env });
  } catch (e) {
    release();
    throw e;
  }
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  let runId: number | null = null;
  const onSigint = () => {
    if (runId !== null) void client.call('runs.cancel', { id: runId }).catch(() => undefined);
  };
  process.once('SIGINT', onSigint);
  const off = client.on('runs.changed', (r) => {
    if (r.id !== runId || opts.json) return;
    const { done, total, message } = r.progress;
    io.err(`\r[run ${r.id}] ${r.status} ${total ? `${done}/${total}` : done} ${message}`.padEnd(70));
  });
  try {
    ({ runId } = await start(client));
    const end = await app.runner.waitFor(runId);
    if (!opts.json) io.err('\n');
    const detail = await client.call('runs.get', { id: runId });
    const extra = after && end.status === 'succeeded' ? await after(client, runId) : null;
    if (extra?.alone) print(io, opts, extra.value, () => extra.text);
    else print(io, opts, extra ? { ...detail, [extra.key]: extra.value } : detail, () => runDetails(detail) + (extra ? `\n\n${extra.text}` : ''));
    if (end.status !== 'succeeded') throw new Error(`run ${runId} ${end.status}${end.error ? `: ${end.error}` : ''}`);
  } finally {
    off();
    process.off('SIGINT', onSigint);
    try {
      await app.close();
    } finally {
      release();
    }
  }
}

/** A model named on the command line: its library id, or a GGUF file (added to the library when it is not in it yet). */
export async function modelArg(c: Client, raw: string): Promise<number> {
  if (/^\d+$/.test(raw)) return parseId(raw);
  const file = path.resolve(raw);
  const known = (await c.call('models.list', {})).find((m) => m.path === file);
  return known ? known.id : (await c.call('models.add', { path: file })).id;
}
