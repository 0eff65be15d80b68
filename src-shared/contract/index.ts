import type { z } from 'zod';
import type { EventDef, OpDef } from './define.js';
import { systemOps, systemEvents } from './system.js';
import { modelsOps, modelsEvents } from './models.js';
import { runsOps, runsEvents } from './runs.js';
import { playgroundOps, playgroundEvents } from './playground.js';
import { datasetsOps } from './datasets.js';
import { distillEvents, distillOps } from './distill.js';
import { secretsOps } from './secrets.js';
import { adaptersEvents, adaptersOps } from './adapters.js';
import { quantizeOps } from './quantize.js';
import { evaluateOps } from './evaluate.js';
import { trainingOps } from './training.js';
import type { Result } from '../errors.js';

export * from './system.js';
export * from './models.js';
export * from './runs.js';
export * from './playground.js';
export * from './datasets.js';
export * from './distill.js';
export * from './secrets.js';
export * from './adapters.js';
export * from './quantize.js';
export * from './evaluate.js';
export * from './training.js';
export * from './jobs.js';

/** Every operation the UI, the CLI and the tests can ask for. */
export const contract = {
  ...systemOps,
  ...modelsOps,
  ...runsOps,
  ...playgroundOps,
  ...datasetsOps,
  ...distillOps,
  ...secretsOps,
  ...adaptersOps,
  ...quantizeOps,
  ...evaluateOps,
  ...trainingOps,
} as const;

/** Every event the main side pushes. */
export const events = {
  ...systemEvents,
  ...modelsEvents,
  ...runsEvents,
  ...playgroundEvents,
  ...adaptersEvents,
  ...distillEvents,
} as const;

type Contract = typeof contract;
type Events = typeof events;

export type OpName = keyof Contract;
/** What a caller passes (defaults may be left out). */
export type OpInput<K extends OpName> = Contract[K] extends OpDef<infer I, unknown> ? z.input<I> : never;
/** What a handler receives: parsed, with defaults filled. */
export type OpParsed<K extends OpName> = Contract[K] extends OpDef<infer I, unknown> ? z.output<I> : never;
export type OpOutput<K extends OpName> = Contract[K] extends OpDef<z.ZodType, infer O> ? O : never;

export type EventName = keyof Events;
export type EventPayload<K extends EventName> = Events[K] extends EventDef<infer P> ? P : never;
export type EventEnvelope = { [K in EventName]: { name: K; payload: EventPayload<K> } }[EventName];

export const OP_NAMES = Object.keys(contract) as OpName[];
export function isOpName(name: unknown): name is OpName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

/** How the renderer's client reaches a host: Electron IPC or HTTP + server-sent events. */
export interface Transport {
  call(op: OpName, input: unknown): Promise<Result<unknown>>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (event: EventEnvelope) => void): () => void;
}

/** The preload's `window.distillery`: only these, never a raw `invoke`. */
export interface DesktopBridge extends Transport {
  /** Electron's native file dialog; resolves null when the user cancels. */
  pickFile(options: { title: string; extensions: string[] }): Promise<string | null>;
  pickFolder(options: { title: string }): Promise<string | null>;
  /** The absolute path of a dropped File (webUtils.getPathForFile). */
  pathForFile(file: File): string;
}
