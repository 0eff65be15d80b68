/**
 * The seam between the training export (training/export job) and the KD soft-label writer (training/kd.ts): the export
 * checks KD before its run starts and has the writer put its files into the folder it is assembling.
 */
export interface KdStudent {
  /** The student GGUF of the library: its vocabulary is the ids' vocabulary. */
  path: string;
  name: string;
}

export interface KdSource {
  versionId: number;
  dataset: string;
  version: number;
  /** The split exported for training (`train`, or `all` when the version has no splits). */
  split: 'train' | 'validation' | 'test' | 'all';
}

export interface KdSummary {
  /** Axolotl's KD dataset, relative to the folder (e.g. `data/kd.jsonl`). */
  file: string;
  /** The compact form the app documents in docs/ (ids and logprobs only), relative to the folder. */
  compactFile: string;
  records: number;
  /** Examples left out of the KD file, with why (e.g. an answer edited after distillation). */
  skipped: { position: number; reason: string }[];
  /** Alternatives per position. */
  k: number;
  /** The temperature the soft labels were drawn at (the distillation run's). */
  temperature: number;
  /** The teacher's name as the distillation run recorded it. */
  teacher: string;
  /** The distillation run the soft labels come from. */
  distillRunId: number;
  /**
   * The Jinja chat template the rows are aligned to (the student GGUF's `tokenizer.chat_template`, else Axolotl's
   * ChatML): the Axolotl recipe must render with it (`chat_template: jinja` + `chat_template_jinja`), since the KD rows
   * are right-aligned to the conversation as this template writes it.
   */
  chatTemplate: string;
}

/** Refuses, before a run starts, with the reason: no distillation run behind the version, no soft labels, another vocabulary. */
export type KdCheck = (source: KdSource, student: KdStudent, signal?: AbortSignal) => Promise<void>;

/** Writes the KD files into `dir` (the export's folder being assembled), committing nothing itself. */
export type KdWriter = (
  source: KdSource,
  student: KdStudent,
  dir: string,
  opts: { signal: AbortSignal; onProgress?: (done: number, total: number) => void },
) => Promise<KdSummary>;
