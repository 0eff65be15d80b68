import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { jsonTextDepth, MAX_JSON_DEPTH } from '../json-depth.js';
import { TRAINERS, TRAINING_MANIFEST, type TrainingManifest } from '../../../src-shared/domain/training.js';

/**
 * What `adapters.watch` looks at in a trainer's output folder: where the PEFT adapter is, and whether it is complete.
 * Pure file reads, no waiting (jobs/watch.ts waits and imports). Every walk is bounded: folders `MAX_DEPTH` deep below
 * the watched one, at most `MAX_FOLDERS` of them, symlinks and hidden folders never followed.
 */
export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const ADAPTER_BIN = 'adapter_model.bin';
const TRAINER_STATE = 'trainer_state.json';
export const MAX_DEPTH = 3;
export const MAX_FOLDERS = 200;
const MAX_ENTRIES = 10_000;
/** How far above the watched folder a training manifest is looked for. */
export const MANIFEST_LEVELS_UP = 3;
/** Larger than any real adapter_config.json / trainer_state.json / manifest: a damaged or foreign file. */
const MAX_JSON_FILE = 16 * 1024 * 1024;
/** safetensors' own reader refuses headers above 100 MB. */
const MAX_HEADER = 100 * 1024 * 1024;
const CHECKPOINT = /^checkpoint-(\d+)$/;

export interface FileState {
  size: number;
  mtimeMs: number;
}

/** One folder's adapter, as it is now. */
export type FolderLook =
  | { state: 'complete'; folder: string; config: FileState; weights: FileState; tensors: number }
  /** Not complete yet; `key` names the kind of wait (logged once per key), `why` says it with today's numbers. */
  | { state: 'waiting'; folder: string; key: string; why: string }
  /** Never importable as it is (only a .bin): the run fails with `why`. */
  | { state: 'refused'; folder: string; why: string };

export interface Look {
  /** The chosen folder's state; null when there is no adapter to wait for yet (`why` says what is awaited). */
  found: FolderLook | null;
  key: string;
  why: string;
  /** The folders read (to watch for changes): the watched folder first. */
  folders: string[];
}

/** Exact byte counts: a trainer's progress shows in the last digits too. */
const human = (n: number) => `${n.toLocaleString('en-US')} bytes`;

/**
 * Finds the adapter to wait for below `dir`: the final adapter (a folder with adapter files that is not a
 * `checkpoint-N`: `dir` itself first, then the shallowest, by name), else the newest `checkpoint-N` whose
 * trainer_state.json says training finished (global_step ≥ max_steps). Intermediate checkpoints are never imported.
 */
export function lookForAdapter(dir: string): Look {
  const rel = (f: string) => path.relative(dir, f) || path.basename(dir) || dir;
  if (!isDir(dir)) {
    return { found: null, key: 'no-dir', why: `waiting for the folder ${dir} to appear`, folders: [] };
  }
  const finals: string[] = [];
  const checkpoints: { folder: string; step: number }[] = [];
  const folders: string[] = [];
  let level = [dir];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const folder of level) {
      if (folders.length >= MAX_FOLDERS) break;
      folders.push(folder);
      const entries = listFolder(folder);
      if (!entries) continue; // vanished or unreadable since it was listed: the next look sees it again
      const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
      const checkpoint = CHECKPOINT.exec(path.basename(folder));
      if (folder !== dir && checkpoint) {
        if (files.has(ADAPTER_CONFIG) || files.has(ADAPTER_WEIGHTS) || files.has(ADAPTER_BIN)) checkpoints.push({ folder, step: Number(checkpoint[1]) });
        continue; // a checkpoint's own subfolders are not adapters of this training
      }
      if (files.has(ADAPTER_CONFIG) || files.has(ADAPTER_WEIGHTS) || files.has(ADAPTER_BIN)) finals.push(folder);
      if (depth === MAX_DEPTH) continue;
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (e.isDirectory() && !e.name.startsWith('.')) next.push(path.join(folder, e.name));
      }
    }
    level = next;
  }
  if (finals.length > 0) return { found: lookAtFolder(finals[0]!, rel(finals[0]!)), key: '', why: '', folders };
  const newestFirst = checkpoints.sort((a, b) => b.step - a.step);
  for (const c of newestFirst) {
    if (trainingFinished(c.folder)) return { found: lookAtFolder(c.folder, rel(c.folder)), key: '', why: '', folders };
  }
  if (newestFirst.length > 0) {
    const c = newestFirst[0]!;
    const state = readTrainerState(c.folder);
    const at = state ? ` (step ${state.globalStep} of ${state.maxSteps})` : ' (no trainer_state.json yet)';
    return {
      found: null,
      key: `training:${c.folder}`,
      why: `${rel(c.folder)} is an intermediate checkpoint${at}: waiting for the final adapter`,
      folders,
    };
  }
  return { found: null, key: 'none', why: `waiting for ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS} in ${dir} or a subfolder`, folders };
}

/** Whether a folder's adapter is complete: its config parses, and its safetensors file holds exactly what its header declares. */
export function lookAtFolder(folder: string, label = folder): FolderLook {
  const config = stat(path.join(folder, ADAPTER_CONFIG));
  const weights = stat(path.join(folder, ADAPTER_WEIGHTS));
  if (config) {
    const parsed = readJson(path.join(folder, ADAPTER_CONFIG));
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
      return { state: 'waiting', folder, key: `config-parse:${folder}`, why: `${path.join(label, ADAPTER_CONFIG)} is not a complete JSON object yet` };
    }
  }
  if (!weights) {
    if (stat(path.join(folder, ADAPTER_BIN))) {
      return {
        state: 'refused',
        folder,
        why: `${path.join(label, ADAPTER_BIN)}: only safetensors adapters are imported; save it with safe_serialization=True (adapter_model.safetensors)`,
      };
    }
    return { state: 'waiting', folder, key: `weights:${folder}`, why: `${label}: waiting for ${ADAPTER_WEIGHTS}` };
  }
  if (!config) return { state: 'waiting', folder, key: `config:${folder}`, why: `${label}: waiting for ${ADAPTER_CONFIG}` };
  const data = safetensorsCompleteness(path.join(folder, ADAPTER_WEIGHTS), weights.size);
  if (data.complete === false) return { state: 'waiting', folder, key: `${data.key}:${folder}`, why: `${path.join(label, ADAPTER_WEIGHTS)} ${data.why}` };
  return { state: 'complete', folder, config, weights, tensors: data.tensors };
}

/**
 * Whether a safetensors file is whole: its header is all there and parses, and the file is exactly 8 + header length +
 * the data its tensors' offsets declare. Only what completeness needs is read (the importer validates the rest).
 */
export function safetensorsCompleteness(file: string, size: number): { complete: true; tensors: number } | { complete: false; key: string; why: string } {
  const waiting = (key: string, why: string) => ({ complete: false as const, key, why });
  if (size < 8) return waiting('header', `has ${size} bytes: its header is not written yet`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return waiting('unreadable', 'cannot be opened yet');
  }
  let json: string;
  let headerLength: number;
  try {
    const len = Buffer.alloc(8);
    fs.readSync(fd, len, 0, 8, 0);
    const n = len.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER)) return waiting('bad-header', `declares a ${n}-byte header: not a safetensors file (yet)`);
    headerLength = Number(n);
    if (size < 8 + headerLength) return waiting('header', `has ${human(size)} of at least ${human(8 + headerLength)}: its header is not complete`);
    const buf = Buffer.alloc(headerLength);
    fs.readSync(fd, buf, 0, headerLength, 8);
    json = buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  let header: unknown;
  try {
    if (jsonTextDepth(json) > MAX_JSON_DEPTH) throw new Error('too deep');
    header = JSON.parse(json);
  } catch {
    return waiting('bad-header', 'has a header that is not JSON: being rewritten, or not a safetensors file');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return waiting('bad-header', 'has a header that is not a JSON object');
  let end = 0;
  let tensors = 0;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      return waiting('bad-header', `has no valid data_offsets for tensor "${name.slice(0, 100)}"`);
    }
    end = Math.max(end, offsets[1] as number);
    tensors++;
  }
  const expected = 8 + headerLength + end;
  if (size < expected) return waiting('torn', `has ${human(size)} of the ${human(expected)} its header declares`);
  if (size > expected) return waiting('too-long', `has ${human(size)}, more than the ${human(expected)} its header declares: being rewritten?`);
  return { complete: true, tensors };
}

interface TrainerState {
  globalStep: number;
  maxSteps: number;
}

/** A Hugging Face Trainer checkpoint's trainer_state.json: the step it was saved at, and the run's last step. */
function readTrainerState(folder: string): TrainerState | null {
  const r = readJson(path.join(folder, TRAINER_STATE));
  if (!r.ok) return null;
  const s = r.value as { global_step?: unknown; max_steps?: unknown } | null;
  if (typeof s?.global_step !== 'number' || typeof s.max_steps !== 'number') return null;
  return { globalStep: s.global_step, maxSteps: s.max_steps };
}

function trainingFinished(folder: string): boolean {
  const s = readTrainerState(folder);
  return s !== null && s.maxSteps > 0 && s.globalStep >= s.maxSteps;
}

const ManifestSchema = z.object({
  format: z.literal('distillery-training-export'),
  runId: z.number().int().positive(),
  trainer: z.enum(TRAINERS),
  dataset: z.object({ name: z.string().min(1), version: z.number().int().positive(), versionId: z.number().int().positive() }),
  distillRunId: z.number().int().positive().nullable().optional(),
  adapterDir: z.string().optional(),
});
export type ManifestLink = Pick<TrainingManifest, 'runId' | 'trainer' | 'dataset'> & { distillRunId: number | null };

/**
 * The training manifest (`distillery-export.json`) the adapter in `folder` was trained from: looked for in `folder`
 * and its parents up to `MANIFEST_LEVELS_UP` above the watched `dir`. An unreadable one is returned with the reason.
 */
export function findTrainingManifest(folder: string, dir: string): { file: string; manifest: ManifestLink } | { file: string; error: string } | null {
  let top = dir;
  for (let i = 0; i < MANIFEST_LEVELS_UP; i++) top = path.dirname(top);
  let at = folder;
  for (let i = 0; i <= MAX_DEPTH + MANIFEST_LEVELS_UP; i++) {
    const file = path.join(at, TRAINING_MANIFEST);
    if (stat(file)) {
      const r = readJson(file);
      if (!r.ok) return { file, error: r.error };
      const m = ManifestSchema.safeParse(r.value);
      if (!m.success) {
        const issue = m.error.issues[0]!;
        return { file, error: `${issue.path.join('.') || 'the file'}: ${issue.message}` };
      }
      const { runId, trainer, dataset, distillRunId } = m.data;
      return { file, manifest: { runId, trainer, dataset, distillRunId: distillRunId ?? null } };
    }
    if (at === top || path.dirname(at) === at) break;
    at = path.dirname(at);
  }
  return null;
}

/** A folder's entries, at most MAX_ENTRIES of them (a trainer's folder holds tens; a data folder may hold millions). */
function listFolder(folder: string): fs.Dirent[] | null {
  let d: fs.Dir;
  try {
    d = fs.opendirSync(folder);
  } catch {
    return null;
  }
  const out: fs.Dirent[] = [];
  try {
    for (let e = d.readSync(); e !== null && out.length < MAX_ENTRIES; e = d.readSync()) out.push(e);
  } catch {
    return null;
  } finally {
    d.closeSync();
  }
  return out;
}

function readJson(file: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_JSON_FILE) return { ok: false, error: `${path.basename(file)} has ${st.size} bytes, too large for this kind of file` };
    const text = fs.readFileSync(file, 'utf8');
    if (jsonTextDepth(text) > MAX_JSON_DEPTH) return { ok: false, error: `${path.basename(file)} nests too deep` };
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: `${path.basename(file)}: ${(e as Error).message}` };
  }
}

function stat(file: string): FileState | null {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
