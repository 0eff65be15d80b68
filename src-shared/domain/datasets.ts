/** Formats a dataset file can be imported from (issue #3). */
export const JSON_FORMATS = ['openai', 'sharegpt', 'alpaca', 'prompt-completion'] as const;
export type JsonRecordFormat = (typeof JSON_FORMATS)[number];

export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Every imported record, whatever its format, becomes a conversation in OpenAI chat form. */
export interface NormalizedExample {
  messages: ChatMessage[];
  /** The last assistant message when the record has one: the reference answer. */
  reference: string | null;
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
}

export interface DatasetSummary {
  id: number;
  name: string;
  createdAt: string;
  latest: DatasetVersionSummary;
}

export interface DatasetDetail extends DatasetSummary {
  versions: DatasetVersionSummary[];
  /** The first examples of the requested version (default: the latest). */
  version: DatasetVersionSummary;
  preview: NormalizedExample[];
}

export interface ImportPreview {
  path: string;
  format: JsonRecordFormat;
  /** The first records as they would be imported. */
  examples: NormalizedExample[];
  /** Malformed lines among the first ones read. */
  rejects: RejectedRecord[];
  linesRead: number;
}

export interface ExampleRow extends NormalizedExample {
  /** Position in the version (for imports: the source line). */
  position: number;
}

export interface ExamplesPage {
  total: number;
  rows: ExampleRow[];
}
