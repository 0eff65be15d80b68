import type { JobConfig, JobKindName } from '../contract/jobs.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses a run can still leave by itself. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface RunProgress {
  done: number;
  /** null while the total is not known yet. */
  total: number | null;
  message: string;
}

export interface RunSummary {
  id: number;
  kind: JobKindName;
  title: string;
  status: RunStatus;
  progress: RunProgress;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
}

export type LogLevel = 'info' | 'warn' | 'error';
export interface RunLog {
  seq: number;
  at: string;
  level: LogLevel;
  message: string;
}

export interface RunMetric {
  name: string;
  value: number;
  unit: string;
  /** Step for series (e.g. repetition index); null for a single figure. */
  step: number | null;
}

/** endpoint: an OpenAI-compatible server and model (a remote teacher). */
export type LineageKind = 'model' | 'file' | 'run' | 'dataset' | 'endpoint' | 'adapter';
export interface LineageLink {
  direction: 'input' | 'output';
  kind: LineageKind;
  /** A model id, a file path, a run id... as text. */
  ref: string;
  label: string;
}

interface RunDetailOf<K extends JobKindName> extends RunSummary {
  kind: K;
  /** The run's settings, read through its kind's schema; null when the stored config no longer reads (configError says why). */
  config: JobConfig<K> | null;
  configError?: string;
  logs: RunLog[];
  metrics: RunMetric[];
  lineage: LineageLink[];
  /** Items committed so far (durable per-item progress). */
  itemsDone: number;
}
/** A run with everything it recorded; `kind` tells its config's shape (`if (run.kind === 'adapters.sweep') run.config…`). */
export type RunDetail = { [K in JobKindName]: RunDetailOf<K> }[JobKindName];
