// The options and arguments the rooms' commands share, and how a bad one is refused: a usage error (exit code 2) whose
// one line names the option or argument. Only light modules here (see index.ts).
import fs from 'node:fs';
import path from 'node:path';
import { CommanderError, Option } from 'commander';
import { defaultDataDir } from '../core/paths.js';
import type { Io } from './output.js';

/** The options every command that opens the library takes. */
export interface Common {
  dataDir?: string;
  json?: boolean;
}

export const dataDirOption = (io: Io) => new Option('--data-dir <dir>', `data folder (default: ${defaultDataDir(io.env)})`);

/** The data folder a command uses: --data-dir, else the default of the environment it runs in. */
export const dataDirOf = (io: Io, opts: Common) => path.resolve(opts.dataDir ?? defaultDataDir(io.env));
export const jsonOption = () => new Option('--json', 'print JSON instead of text');

/** A usage error: main() prints `distillery: <message>` and exits with 2. */
export function usageError(code: string, message: string): CommanderError {
  return new CommanderError(2, `distillery.${code}`, message);
}

export function parseId(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0) throw usageError('badId', `"${raw}" is not a valid id`);
  return id;
}

/** NAME or NAME@VERSION */
export function parseRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: ref };
  const version = Number(ref.slice(at + 1));
  if (!Number.isInteger(version) || version <= 0) throw usageError('badRef', `"${ref}": the version after @ must be a positive number`);
  return { name: ref.slice(0, at), version };
}

/** For options given several times (`--lora a --lora b`). */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** A JSON object from a file, or a usage error naming the option and the reason. */
export function readJsonFile(file: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError('badFile', `${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw usageError('badFile', `${flag}: ${path.basename(file)} is not a JSON schema (${(e as Error).message})`);
  }
}

export type SplitName = 'train' | 'validation' | 'test' | 'all';
export const SPLIT_CHOICES: SplitName[] = ['train', 'validation', 'test', 'all'];

/** A text source from `--<text> FILE` or `--<dataset> NAME[@VERSION]` (+ its split): exactly one of the two. */
export function textSourceArg(
  text: string | undefined,
  dataset: string | undefined,
  split: SplitName,
  flags: { text: string; dataset: string },
): { textFile: string } | { dataset: string; version?: number; split: SplitName } {
  if (!text === !dataset) throw usageError('badSource', `give either ${flags.text} FILE or ${flags.dataset} NAME[@VERSION]`);
  if (text) return { textFile: text };
  const ref = parseRef(dataset!);
  return { dataset: ref.name, ...(ref.version ? { version: ref.version } : {}), split };
}

/** A whole number option (`--ctx 512`), or a usage error naming it. */
export function intOption(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw usageError('badNumber', `${flag} must be a whole number above 0, not "${raw}"`);
  return n;
}
