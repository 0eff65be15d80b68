import { useState } from 'react';
import type { OpInput } from '../../../src-shared/contract/index.js';
import type { TextSource } from '../../../src-shared/domain/adapters.js';
import { parseNumber } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { TextSourceFields, textDraft, textSource, type TextDraft } from './TextSourceFields.js';
import type { ChunksInitial, GateInitial, ImatrixInitial } from './quantize-form.js';

type StartInput = OpInput<'quantize.start'>;
type ImatrixMode = 'none' | 'file' | 'compute';

/** Tokens per chunk and at most how many chunks, typed; named `<label> context size` and `<label> max chunks`. */
function useChunks(label: string, initial?: ChunksInitial) {
  const [ctx, setCtx] = useState(initial?.contextSize ?? '512');
  const [max, setMax] = useState(initial?.maxChunks ?? '');
  const contextSize = parseNumber(ctx, { min: 16, max: 32_768, int: true });
  const maxChunks = max.trim() ? parseNumber(max, { min: 1, int: true }) : undefined;
  const fields = (
    <>
      <label>
        context size{' '}
        <input
          aria-label={`${label} context size`}
          className={contextSize === null ? 'invalid' : undefined}
          size={6}
          value={ctx}
          onChange={(e) => setCtx(e.target.value)}
        />
      </label>
      <label>
        at most{' '}
        <input
          aria-label={`${label} max chunks`}
          className={maxChunks === null ? 'invalid' : undefined}
          size={5}
          placeholder="all"
          value={max}
          onChange={(e) => setMax(e.target.value)}
        />{' '}
        chunks
      </label>
    </>
  );
  return { contextSize, maxChunks, valid: contextSize !== null && maxChunks !== null, fields };
}

/**
 * The importance matrix of a ladder: none, a file (from llama-imatrix or the app, GGUF or legacy .dat), or computed in
 * the run from a dataset split (rendered with the model's chat template) or a text file.
 */
export function useImatrixOptions(initial?: ImatrixInitial) {
  const [mode, setMode] = useState<ImatrixMode>(initial?.mode ?? 'none');
  const [file, setFile] = useState(initial?.file ?? '');
  const [source, setSource] = useState<TextDraft>(initial?.source ?? textDraft('train'));
  const chunks = useChunks('Importance matrix', initial);
  const src = textSource(source);
  const input: Pick<StartInput, 'imatrix' | 'imatrixFrom'> | null =
    mode === 'none'
      ? {}
      : mode === 'file'
        ? file.trim()
          ? { imatrix: file.trim() }
          : null
        : src && chunks.valid
          ? { imatrixFrom: { source: src, contextSize: chunks.contextSize!, ...(chunks.maxChunks ? { maxChunks: chunks.maxChunks } : {}) } }
          : null;
  /** The dataset the matrix is computed from: its test split is the gate's default text. */
  const dataset = mode === 'compute' && src && 'dataset' in src ? src : null;
  const fields = (
    <div className="quant-options" data-testid="imatrix-options">
      <div className="row">
        <label>Importance matrix</label>
        <span className="segmented" role="radiogroup" aria-label="Importance matrix">
          {(
            [
              ['none', 'None'],
              ['file', 'From a file'],
              ['compute', 'Compute'],
            ] as const
          ).map(([m, text]) => (
            <button key={m} role="radio" aria-checked={mode === m} className={mode === m ? 'on' : ''} onClick={() => setMode(m)}>
              {text}
            </button>
          ))}
        </span>
        {mode === 'file' && (
          <PathField
            value={file}
            onChange={setFile}
            label="Importance matrix file"
            placeholder="/path/to/model.imatrix.gguf or .dat (llama-imatrix's or the app's)"
            pick={{ kind: 'file', title: 'Importance matrix', extensions: ['gguf', 'dat'] }}
          />
        )}
      </div>
      {mode === 'compute' && (
        <div className="row">
          <TextSourceFields label="Importance matrix" value={source} onChange={setSource} />
          {chunks.fields}
        </div>
      )}
      {mode === 'compute' && (
        <p className="muted small">
          Computed first in this run, as <code>llama-imatrix</code> does (Σ x² of every weight matrix's inputs); dataset examples go through the model's chat
          template. Saved as a GGUF imatrix that <code>llama-quantize --imatrix</code> reads too.
        </p>
      )}
    </div>
  );
  return { input, chosen: mode !== 'none' && input !== null, dataset, fields };
}

/**
 * The quality gate: on by default, every type scored against the source on a text (a dataset split, the test split
 * by default, or a text file), speed measured too; or off.
 */
export function useGateOptions(imatrixDataset: Extract<TextSource, { dataset: string }> | null, initial?: GateInitial) {
  const [on, setOn] = useState(initial?.on ?? true);
  const [speed, setSpeed] = useState(initial?.speed ?? true);
  const [source, setSource] = useState<TextDraft>(initial?.source ?? textDraft('test'));
  const chunks = useChunks('Gate', initial);
  const src = textSource(source);
  const fallback = !src && imatrixDataset ? `the test split of ${imatrixDataset.dataset}${imatrixDataset.version ? `@${imatrixDataset.version}` : ''}` : null;
  const input: Pick<StartInput, 'gate'> | null = !on
    ? { gate: null }
    : (src || fallback) && chunks.valid
      ? { gate: { ...(src ? { source: src } : {}), contextSize: chunks.contextSize!, ...(chunks.maxChunks ? { maxChunks: chunks.maxChunks } : {}), speed } }
      : null;
  const fields = (
    <div className="quant-options" data-testid="gate-options">
      <div className="row">
        <label className="inline">
          <input type="checkbox" checked={on} onChange={(e) => setOn(e.target.checked)} aria-label="Quality gate" /> Quality gate
        </label>
        {on && (
          <>
            <TextSourceFields label="Gate" value={source} onChange={setSource} />
            {chunks.fields}
            <label className="inline">
              <input type="checkbox" checked={speed} onChange={(e) => setSpeed(e.target.checked)} /> measure speed
            </label>
          </>
        )}
      </div>
      <p className="muted small">
        {on
          ? `Each type is scored against the source on the same chunks (mean KLD, same top token, PPL ratio, as llama-perplexity --kl-divergence)${
              fallback ? `, on ${fallback}` : ''
            }${speed ? '; load time, prompt and generation speed and peak memory are measured in a fresh process' : ''}.`
          : 'No gate: the files are made, but nothing says how far each is from the source.'}
      </p>
      {on && !src && !fallback && (
        <p className="warn-text" data-testid="gate-needs-text">
          The quality gate needs a text: pick a dataset split or a text file, or turn the gate off.
        </p>
      )}
    </div>
  );
  return { input, fields };
}
