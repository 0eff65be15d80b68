/** Formats a dataset file can be imported from (issue #3). */
export const JSON_FORMATS = ['openai', 'sharegpt', 'alpaca', 'prompt-completion'] as const;
export type JsonRecordFormat = (typeof JSON_FORMATS)[number];

/** File kinds a dataset can be imported from. */
export const IMPORT_CONTAINERS = ['jsonl', 'json', 'csv', 'tsv', 'text', 'parquet'] as const;
export type ImportContainer = (typeof IMPORT_CONTAINERS)[number];

/** Which columns of a table (CSV/TSV, a flat Parquet file, or JSON objects of another shape) hold what. */
export interface ColumnMapping {
  prompt: string;
  response?: string;
  system?: string;
}

/** How to read a file: its container, and the record shape or the column mapping. */
export interface ImportSpec {
  container: ImportContainer;
  record?: JsonRecordFormat;
  mapping?: ColumnMapping;
}

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/** A call an assistant message makes, in OpenAI's form; `arguments` is JSON text, kept as the file wrote it. */
export interface ToolCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * One message in OpenAI chat form. Content given as a list of text parts is joined into `content`; the optional
 * fields are kept only when the record has them (so a plain chat stays `{role, content}`).
 */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** assistant: the tools it calls (content is then often empty). */
  tool_calls?: ToolCall[];
  /** tool: the call this message is the result of. */
  tool_call_id?: string;
  /** OpenAI's speaker or tool name. */
  name?: string;
  /** Per-message training weights: OpenAI's `weight` (0 or 1) and LLaMA-Factory's / Axolotl's `loss_weight`. */
  weight?: number;
  loss_weight?: number;
}

/** A tool the conversation may call, in OpenAI's form: `{type: 'function', function: {name, description?, parameters?}}`. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: unknown; [key: string]: unknown };
}

/** Every imported record, whatever its format, becomes a conversation in OpenAI chat form. */
export interface NormalizedExample {
  messages: ChatMessage[];
  /** The last assistant message when the record has one: the reference answer (its text, and its tool calls). */
  reference: string | null;
  /** The record's tools (OpenAI's `tools`, ShareGPT's `tools` JSON string); absent when it has none. */
  tools?: ToolDefinition[];
}

/** A tool call as one line of text, `name(arguments)`: what search, token counts and {{reference}} see of it. */
export const toolCallText = (c: ToolCall): string => `${c.function.name}(${c.function.arguments})`;

/** A message's text: its content, then its tool calls one per line. */
export function messageText(m: ChatMessage): string {
  if (!m.tool_calls?.length) return m.content;
  return [...(m.content ? [m.content] : []), ...m.tool_calls.map(toolCallText)].join('\n');
}

/** The reference answer of a conversation: the last message's text when it is the assistant's, else null. */
export function referenceOf(messages: ChatMessage[]): string | null {
  const last = messages.at(-1);
  return last?.role === 'assistant' ? messageText(last) : null;
}

/** A record that was skipped, with where and why. */
export interface RejectedRecord {
  line: number;
  reason: string;
  /** The start of the raw line, for the report (at most 200 characters). */
  excerpt: string;
}

export interface DatasetVersionSummary {
  id: number;
  number: number;
  message: string;
  exampleCount: number;
  createdAt: string;
  /** The run that made this version (import, curation…). */
  runId: number | null;
  /** `draft`: the working copy, not yet committed. */
  state: 'draft' | 'committed';
}

export interface DatasetSummary {
  id: number;
  name: string;
  createdAt: string;
  latest: DatasetVersionSummary;
}

export interface DraftOperation {
  id: number;
  /** What it did, e.g. "Tagged 120 examples billing". */
  label: string;
  affected: number;
  createdAt: string;
}

/** The working copy: curation changes not yet committed as a version. */
export interface DraftSummary {
  /** The number it will get when committed. */
  number: number;
  /** The committed version it started from. */
  basedOn: number;
  exampleCount: number;
  /** The undo stack, oldest first. */
  operations: DraftOperation[];
}

export interface DatasetDetail extends DatasetSummary {
  /** Committed versions, oldest first. */
  versions: DatasetVersionSummary[];
  /** The first examples of the requested version (default: the latest). */
  version: DatasetVersionSummary;
  preview: NormalizedExample[];
  draft: DraftSummary | null;
  /** Curation never moves examples into or out of the test split. */
  testFrozen: boolean;
  /** Examples per split in the requested version (`none`: not in a split yet). */
  splits: Record<Split | 'none', number>;
  /** Tags used in the requested version, with counts. */
  tags: { tag: string; count: number }[];
  /** Flag reasons in the requested version (`manual`, `pii:email`, `quality:empty-answer`…), with counts. */
  flags: { flag: string; count: number }[];
  /** The files the dataset was imported from, with how many of the requested version's examples come from each. */
  sources: { idx: number; file: string; examples: number }[];
}

export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** The training formats an export writes. */
export const EXPORT_FORMATS = ['openai', 'sharegpt', 'alpaca'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** What an export writes: `all` one file; `each` one file per split (`<name>.<split>.<ext>`); a split only its examples. */
export const EXPORT_SPLITS = ['all', 'each', ...SPLITS] as const;
export type ExportSplit = (typeof EXPORT_SPLITS)[number];

/** Which examples of a version a browse, a bulk action or an export looks at. Every field narrows. */
export interface ExamplesFilter {
  /** Words that must all appear (full-text). */
  search?: string;
  hasReference?: boolean;
  split?: Split | 'none';
  tag?: string;
  /** Imported from this source file (its index in DatasetDetail.sources). */
  source?: number;
  /** Flagged (by hand or by a scan) or not. */
  flagged?: boolean;
  /** Flagged with this reason, e.g. `pii:email`, `empty-answer`, `manual`. */
  flag?: string;
  /** In a near-duplicate cluster (of the version's latest detection), or in this one cluster. */
  duplicates?: boolean;
  cluster?: number;
  /** Length in tokens, counted with this model's tokenizer (a token-count run must have counted the version). */
  tokenizerModel?: number;
  minTokens?: number;
  maxTokens?: number;
}

/** One example, some examples, or every example matching a filter. */
export type Selection = { positions: number[] } | { filter: ExamplesFilter };

export type CurationAction = { kind: 'tag'; tag: string } | { kind: 'untag'; tag: string } | { kind: 'flag' } | { kind: 'unflag' } | { kind: 'delete' };

export interface VersionDiff {
  from: number;
  to: number;
  added: number;
  removed: number;
  /** Same position, different content. */
  changed: number;
  /** Same content, different split, tags or flags. */
  relabeled: number;
  rows: VersionDiffRow[];
}

export interface VersionDiffRow {
  position: number;
  change: 'added' | 'removed' | 'changed' | 'relabeled';
  before: ExampleRow | null;
  after: ExampleRow | null;
}

export interface DuplicateCluster {
  cluster: number;
  similarity: number;
  members: ExampleRow[];
}

export interface ImportPreview {
  path: string;
  /** How the file will be read (detected, with the user's overrides). */
  spec: ImportSpec;
  /** The columns of a table, to choose a mapping from. */
  columns: string[] | null;
  /** The first records as they would be imported. */
  examples: NormalizedExample[];
  /** Malformed lines among the first ones read. */
  rejects: RejectedRecord[];
  linesRead: number;
}

export interface ExampleRow extends NormalizedExample {
  /** Position in the version (for imports: the source line); an example keeps it across versions. */
  position: number;
  split: Split | null;
  tags: string[];
  flags: string[];
  /** Near-duplicate cluster (the smallest position in it), when the version's latest detection put it in one. */
  cluster: number | null;
  /** Length in tokens when the filter named a tokenizer model that has counted it. */
  tokens: number | null;
  /** The file and line it was imported from (edits keep them). */
  source: { file: string; line: number } | null;
}

export interface ExamplesPage {
  total: number;
  /** False when a search has more matches than were counted (total is then a lower bound). */
  exact: boolean;
  rows: ExampleRow[];
}

/** What a curation action did. */
export interface CurationResult {
  label: string;
  affected: number;
  /** Selected rows left alone (e.g. in a frozen test split). */
  skipped: number;
  draft: DraftSummary | null;
}
