import type * as NodeLlamaCpp from 'node-llama-cpp';

// node-llama-cpp takes over half a second to import (its bindings and top-level await), so it is imported on first
// use: commands and requests that run no inference (the CLI's list/show commands, `--help`) never load it.
let loading: Promise<typeof NodeLlamaCpp> | null = null;
let loaded: typeof NodeLlamaCpp | null = null;

/** node-llama-cpp, imported on the first call. */
export function loadLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  return (loading ??= import('node-llama-cpp').then((m) => (loaded = m)));
}

/**
 * node-llama-cpp once loaded. Code that holds a model, context or sequence may use it: those exist only after the
 * engine's `llama()`, which loads the module first.
 */
export function llamaCpp(): typeof NodeLlamaCpp {
  if (!loaded) throw new Error('node-llama-cpp is used before the engine loaded it');
  return loaded;
}
