/**
 * The engine host: the child process in which every llama.cpp call of the native path runs (forked by client.ts;
 * argv[2] is the JSON of the libraries to open, the ones node-llama-cpp loaded in the app). A GGML_ASSERT abort
 * kills only this process; the client turns that into an error carrying its last stderr lines.
 *
 * Requests run one at a time, in arrival order. A handler yields to the event loop between decode steps
 * (`ctx.checkpoint()`), which is where a cancel message is seen: a cancelled request stops within one decode step.
 * Models stay loaded between requests (an LRU of MAX_MODELS, keyed by path and GPU layers) and loads are counted.
 */
import { AppError, toErrorShape } from '../../../src-shared/errors.js';
import { openLibrary, type LibraryFiles } from './ffi.js';
import { NativeLlama, type NativeModel } from './llama.js';
import type { EngineOps, FromHost, HostInfo, ModelRef, OpName, ToHost } from './protocol.js';
import { HOST_OPS } from './host-ops.js';

/** Two for a lockstep pair, one more for the next request's model. */
const MAX_MODELS = 3;

/** What a request handler gets. */
export interface HostContext {
  llama: NativeLlama;
  /** A loaded model (cached; a hit moves it to the end of the LRU). Never evicts a model this request already holds. */
  model(ref: ModelRef): NativeModel;
  signal: AbortSignal;
  progress(p: unknown): void;
  /** Yields to the event loop (a cancel arrives there), then throws `cancelled` if this request was cancelled. */
  checkpoint(): Promise<void>;
  /** Input main feeds this request while it runs (`feed` messages), in order. */
  onFeed(handler: (data: unknown) => void): void;
  info(): HostInfo;
  unloadAll(): number;
}

/** Args arrive over IPC: a handler checks them as untrusted even though they are typed. */
export type Handler<K extends OpName> = (args: EngineOps[K]['args'], ctx: HostContext) => Promise<EngineOps[K]['result']> | EngineOps[K]['result'];

const libraries = JSON.parse(process.argv[2] ?? 'null') as LibraryFiles | null;
let llama: NativeLlama | null = null;
const models = new Map<string, NativeModel>();
let modelLoads = 0;
const queue: { id: number; op: OpName; args: unknown }[] = [];
const cancelled = new Set<number>();
let current: { id: number; abort: AbortController; feed?: (data: unknown) => void } | null = null;
let running = false;

function send(m: FromHost): void {
  process.send?.(m);
}

function native(): NativeLlama {
  if (!libraries) throw new AppError('internal', 'the engine host was started without its library list');
  return (llama ??= new NativeLlama(openLibrary(libraries)));
}

function loadModel(ref: ModelRef, held: Set<string>): NativeModel {
  const key = `${ref.path}\u0000${ref.gpuLayers ?? 0}`;
  const hit = models.get(key);
  if (hit) {
    models.delete(key);
    models.set(key, hit);
    held.add(key);
    return hit;
  }
  const l = native();
  for (const [k, m] of models) {
    if (models.size < MAX_MODELS) break;
    if (held.has(k)) continue;
    m.free();
    models.delete(k);
  }
  const m = l.openModel(ref.path, { gpuLayers: ref.gpuLayers ?? 0 });
  modelLoads++;
  models.set(key, m);
  held.add(key);
  return m;
}

function info(): HostInfo {
  const l = native();
  return {
    pid: process.pid,
    modelLoads,
    loaded: [...models.values()].map((m) => m.file),
    threadpools: l.threadpoolSizes(),
    persistentThreads: l.lib.ggml_threadpool_new !== null,
    libraries: libraries!,
  };
}

async function runNext(): Promise<void> {
  if (running) return;
  running = true;
  try {
    for (let req = queue.shift(); req; req = queue.shift()) {
      if (cancelled.delete(req.id)) {
        send({ type: 'error', id: req.id, error: { code: 'cancelled', message: 'cancelled before it started' } });
        continue;
      }
      const abort = new AbortController();
      const running: NonNullable<typeof current> = { id: req.id, abort };
      current = running;
      const held = new Set<string>();
      const id = req.id;
      const ctx: HostContext = {
        get llama() {
          return native();
        },
        model: (ref) => loadModel(ref, held),
        signal: abort.signal,
        progress: (p) => send({ type: 'progress', id, progress: p }),
        onFeed: (handler) => {
          running.feed = handler;
        },
        checkpoint: async () => {
          await new Promise<void>((r) => setImmediate(r));
          if (abort.signal.aborted) throw new AppError('cancelled', 'cancelled');
        },
        info,
        unloadAll: () => {
          const n = models.size;
          for (const m of models.values()) m.free();
          models.clear();
          return n;
        },
      };
      try {
        const handler = HOST_OPS[req.op] as Handler<OpName> | undefined;
        if (!handler) throw new AppError('unknown_op', `the engine host has no operation "${req.op}"`);
        const result = await handler(req.args as never, ctx);
        send({ type: 'result', id, result });
      } catch (e) {
        send({ type: 'error', id, error: toErrorShape(e) });
      } finally {
        current = null;
      }
    }
  } finally {
    running = false;
  }
}

process.on('message', (m: ToHost) => {
  if (m.type === 'feed') {
    if (current?.id === m.id) current.feed?.(m.data);
    return;
  }
  if (m.type === 'cancel') {
    if (current?.id === m.id) current.abort.abort();
    else if (queue.some((q) => q.id === m.id)) cancelled.add(m.id);
    return;
  }
  queue.push({ id: m.id, op: m.op, args: m.args });
  void runNext();
});
// The app went away (or disposed the client): nothing left to serve.
process.on('disconnect', () => process.exit(0));
