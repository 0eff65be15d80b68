/**
 * Which native libraries the engine host opens: exactly the ones node-llama-cpp loaded in this process.
 *
 * node-llama-cpp 3.22 has no public accessor for its binary's folder (`Llama` keeps `bindingPath` internal; the bins
 * folder comes from `@node-llama-cpp/<platform>[-gpu]`'s `getBinsDir()`, a local build, or a fallback folder,
 * depending on what `getLlama` found working). So the answer is read from what the process really has open: Node's
 * diagnostic report lists every shared object loaded (`process.report.getReport().sharedObjects`, all platforms):
 * the folder of its `llama-addon.node`, and the ggml backends it loaded dynamically from there (the CPU variant chosen
 * for this CPU, e.g. libggml-cpu-haswell, and CUDA / Vulkan / Metal when it picked a GPU), in the order they loaded.
 * Call after node-llama-cpp's `getLlama()` (LlmEngine.nativeLibraries does).
 */
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.js';
import type { LibraryFiles } from './ffi.js';

export function loadedLibraries(): LibraryFiles {
  const report = process.report?.getReport() as { sharedObjects?: string[] } | undefined;
  const objects = report?.sharedObjects ?? [];
  const addon = objects.find((f) => path.basename(f) === 'llama-addon.node');
  if (!addon) throw new AppError('internal', 'node-llama-cpp has not loaded its binary yet (llama-addon.node is not in this process)');
  const dir = path.dirname(addon);
  const here = objects.filter((f) => path.dirname(f) === dir || /ggml-(cpu|cuda|vulkan|metal|blas|rpc)/.test(path.basename(f)));
  const pick = (re: RegExp, what: string): string => {
    const f = here.find((o) => re.test(path.basename(o)));
    if (!f) throw new AppError('internal', `node-llama-cpp's ${what} library is not loaded in this process (looked beside ${addon})`);
    return f;
  };
  return {
    llama: pick(/^(lib)?llama(\.v[\d.]+)?\.(so|dylib|dll)$/, 'llama'),
    ggml: pick(/^(lib)?ggml(\.v[\d.]+)?\.(so|dylib|dll)$/, 'ggml'),
    ggmlBase: pick(/^(lib)?ggml-base(\.v[\d.]+)?\.(so|dylib|dll)$/, 'ggml-base'),
    backends: here.filter((f) => /^(lib)?ggml-(cpu|cuda|vulkan|metal|blas|rpc)/.test(path.basename(f))),
  };
}
