import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import type { SourceConfig } from '../../../src-shared/contract/adapters.js';
import type { TextDraft } from './TextSourceFields.js';

/** As TextSourceFields' `textDraft` (not imported: this file stays free of React, for its test). */
const textDraft = (split: TextDraft['split']): TextDraft => ({ kind: 'dataset', dataset: '', version: null, split, textFile: '' });

/** The chunking fields as typed. */
export interface ChunksInitial {
  contextSize: string;
  maxChunks: string;
}
export interface ImatrixInitial extends ChunksInitial {
  mode: 'none' | 'file' | 'compute';
  file: string;
  source: TextDraft;
}
export interface GateInitial extends ChunksInitial {
  on: boolean;
  speed: boolean;
  source: TextDraft;
}
export interface QuantizeInitial {
  modelId: number;
  types: string[];
  pure: boolean;
  imatrix: ImatrixInitial;
  gate: GateInitial;
  /** The dataset versions the run read (`name@version`): the form reads their latest. */
  datasets: { name: string; version: number }[];
}

const chunks = (c: { contextSize: number; maxChunks?: number | undefined } | null): ChunksInitial => ({
  contextSize: String(c?.contextSize ?? 512),
  maxChunks: c?.maxChunks ? String(c.maxChunks) : '',
});

/** A run's text as the form's draft: a dataset at its latest version (the point of running again after curation). */
function draftOf(s: SourceConfig, split: TextDraft['split']): TextDraft {
  return s.kind === 'file' ? { ...textDraft(split), kind: 'file', textFile: s.path } : { ...textDraft(s.split), dataset: s.dataset };
}

const versionOf = (s: SourceConfig | undefined) => {
  const m = s?.kind === 'dataset' ? /@(\d+)$/.exec(s.label) : null;
  return s?.kind === 'dataset' && m ? [{ name: s.dataset, version: Number(m[1]) }] : [];
};

/** A ladder run's settings as the Quantize form's state ("run again from here"); the output folder is left to its default. */
export function quantizeFormFromRun(c: JobConfig<'quantize.ladder'>): QuantizeInitial {
  const im = c.imatrixFrom;
  return {
    modelId: c.model.id,
    types: c.types.map((t) => t.name),
    pure: c.pure,
    imatrix: {
      mode: im ? 'compute' : c.imatrix ? 'file' : 'none',
      file: c.imatrix?.file ?? '',
      source: im ? draftOf(im.source, 'train') : textDraft('train'),
      ...chunks(im),
    },
    gate: {
      on: c.gate !== null,
      speed: c.gate?.speed ?? true,
      source: c.gate ? draftOf(c.gate.source, 'test') : textDraft('test'),
      ...chunks(c.gate),
    },
    datasets: [...versionOf(im?.source), ...versionOf(c.gate?.source)].filter((d, i, all) => all.findIndex((x) => x.name === d.name) === i),
  };
}
