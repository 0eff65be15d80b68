import os from 'node:os';

/** What the thread default depends on: how many cores, and whether ggml keeps its worker threads between decodes. */
export interface ThreadFacts {
  cpuCores: number;
  /** Physical cores useful for math (node-llama-cpp's `cpuMathCores`); cpuCores when not known yet. */
  mathCores: number;
  /** A GPU does the math: the CPU threads only feed it. */
  gpu: boolean;
  /**
   * ggml was built with OpenMP (a local source build): its worker threads persist and sleep between graphs. The
   * prebuilt binaries node-llama-cpp ships are built with GGML_OPENMP=OFF and start fresh threads for every decode.
   */
  openMp: boolean;
  /**
   * The caller attaches a persistent ggml threadpool to its contexts (the native engine host does): no fresh threads
   * per decode, but the spin barriers remain, so one core is left for everything else.
   */
  persistentThreads?: boolean;
}

export function cpuCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Inference threads when the user's setting is "auto".
 *
 * Measured on a 2-core KVM machine (AMD EPYC, fixture teacher: 512 wide, 4 layers, F16; docs/performance.md):
 * node-llama-cpp's prebuilt CPU binaries generate ~420 t/s with 1 thread but 60-90 t/s with 2, and 3-4 t/s with 2
 * when the same shipped libllama is driven from C. The cause is in ggml, not in JavaScript: without OpenMP and
 * without an attached threadpool (node-llama-cpp never calls `llama_attach_threadpool`), every `llama_decode`
 * creates a throw-away threadpool, starts n-1 new pthreads and joins them, and the threads meet at a spin barrier
 * after each of the ~130 graph nodes; 69 % of the cycles were spent in `ggml_barrier`. With a persistent threadpool
 * the same library reaches ~690 t/s at 2 threads, so the cost is the per-decode threads, not the second core.
 *
 * So: with the prebuilt (no OpenMP) binaries on a machine of 2 cores or fewer, 1 thread. With more cores the
 * spin-barrier penalty shrinks (new threads find an idle core) while real models need the compute, so half the
 * cores, at most 4 (not measured here: only 2-core machines were available; the setting overrides it). With OpenMP
 * or a GPU, llama.cpp's own default: the physical cores (there, llama-batched-bench measured 517 t/s at 1 thread
 * and 765 t/s at 2 on the same model). With a persistent threadpool attached (the native path, native/), the
 * physical cores but one: `npm run bench -- engine --case threads` measures 1 thread against 2 and this default.
 */
export function defaultThreadsFor(facts: ThreadFacts): number {
  if (facts.gpu || facts.openMp) return Math.max(1, facts.mathCores);
  // A persistent pool removes the per-decode threads but not the spin barriers: with threads = cores, any third
  // runnable thread (the host's JS, the app, other programs) makes a partner spin for a scheduler tick. Measured
  // (npm run bench -- engine --case threads, 2 cores shared with other work): 487 t/s at 1 thread, 258 at 2.
  // So one core is left free.
  if (facts.persistentThreads) return Math.max(1, Math.min(facts.mathCores, facts.cpuCores - 1));
  if (facts.cpuCores <= 2) return 1;
  return Math.min(4, Math.floor(facts.cpuCores / 2));
}
