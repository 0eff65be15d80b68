import type { JobKindName } from '../contract/jobs.js';
import type { RunStatus } from './runs.js';

/**
 * A step of a run's chain: a dataset version, a curation between two versions (made by hand, no run), a run, a model,
 * an adapter, a file or folder, an OpenAI-compatible endpoint.
 */
export type ChainStepKind = 'dataset' | 'curation' | 'run' | 'model' | 'adapter' | 'file' | 'endpoint';

export interface ChainStep {
  /** Unique in the chain: `run:12`, `dataset:answers@2`, `curation:answers@2`, `model:3`, `adapter:4`, `file:/path`, `endpoint:url#model`. */
  key: string;
  kind: ChainStepKind;
  label: string;
  /** The step's page as a hash route (`#/runs/12`, `#/datasets/answers@2`, `#/models/3`, `#/adapters`); null when it has none. */
  href: string | null;
  /** Its column, left to right: the longest path to it from the chain's first steps. */
  depth: number;
  /** Runs only. */
  run?: {
    id: number;
    kind: JobKindName;
    status: RunStatus;
    /** The room's form filled with this run's settings (`#/distill/again/12`); null when the app has no such form. */
    runAgain: string | null;
  };
}

/** The chain through one run: what led to it (upstream) and what was made from it (downstream), from the runs' lineage and the dataset versions. */
export interface RunChain {
  runId: number;
  /** Ordered by depth, then kind: read left to right. */
  steps: ChainStep[];
  /** The arrows: `from` made or fed `to` (step keys). */
  links: { from: string; to: string }[];
  /** True when the chain was cut at its bounds (steps or depth); the page says so. */
  truncated: boolean;
}

/** The kinds whose room opens a form filled with a past run's settings, and where. */
const RUN_AGAIN: Partial<Record<JobKindName, (id: number) => string>> = {
  'distill.generate': (id) => `#/distill/again/${id}`,
  'quantize.ladder': (id) => `#/quantize/again/${id}`,
  'evaluate.run': (id) => `#/evaluate/again/${id}`,
  'training.export': (id) => `#/train/again/${id}`,
};

/** "Run again from here": the form of run `id`'s room filled with its settings, or null when the app has none for its kind. */
export function runAgainRoute(kind: JobKindName, id: number): string | null {
  return RUN_AGAIN[kind]?.(id) ?? null;
}
