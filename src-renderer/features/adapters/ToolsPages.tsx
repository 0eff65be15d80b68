import { useState } from 'react';
import { ErrorBanner, ProgressBar, StatusBadge } from '../../ui/components.js';
import { desktop } from '../../client.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';
import {
  AdaptersPage,
  AttachedEditor,
  ModelSelect,
  RunList,
  SourcePicker,
  emptySource,
  parseNumber,
  parseScale,
  sourceInput,
  useAttachedFor,
  useLibrary,
  type SourceDraft,
} from './parts.js';
import { FewChunksHint, PerplexityHelp, PerplexityWarnings } from './PerplexityNotes.js';

/** Perplexity of one variant (a model with adapters at scales) on a text file or a dataset split. */
export function PerplexityPage() {
  const lib = useLibrary();
  const start = useAction('adapters.perplexity');
  const [modelId, setModelId] = useState<number | null>(null);
  const [label, setLabel] = useState('');
  const [source, setSource] = useState<SourceDraft>(emptySource);
  const [ctx, setCtx] = useState('512');
  const [maxChunks, setMaxChunks] = useState('');
  const [started, setStarted] = useState<number | null>(null);

  const model = lib.models.find((m) => m.id === modelId) ?? lib.models[0];
  const [adapters, setAdapters] = useAttachedFor(model?.id);
  const contextSize = parseNumber(ctx, { min: 16, max: 32_768, int: true });
  const chunks = maxChunks.trim() ? parseNumber(maxChunks, { min: 1, int: true }) : undefined;
  const src = sourceInput(source);
  const ready = model && src && contextSize !== null && chunks !== null && adapters.every((a) => parseScale(a.scale) !== null);
  const go = async () => {
    if (!ready) return;
    const r = await start.run({
      variant: { modelId: model.id, adapters: adapters.map((a) => ({ id: a.id, scale: parseScale(a.scale)! })), ...(label.trim() ? { label: label.trim() } : {}) },
      source: src,
      contextSize,
      ...(chunks ? { maxChunks: chunks } : {}),
    });
    if (r) setStarted(r.runId);
  };
  return (
    <AdaptersPage tab="perplexity">
      <p className="muted">
        Perplexity of a model with adapters on a text, scored like llama.cpp's <code>llama-perplexity</code> (chunks of the context size, the second half
        of each scored). Lower is better; compare variants on the same text and context size.
      </p>
      <PerplexityHelp vocabSize={model?.summary.vocabSize ?? null} />
      <div className="card" data-testid="perplexity-form">
        <div className="row">
          <label>
            Model{' '}
            <ModelSelect
              models={lib.models}
              value={model?.id ?? null}
              onChange={(id) => {
                setModelId(id);
                setAdapters([]);
              }}
            />
          </label>
          <AttachedEditor label="Perplexity" model={model} adapters={lib.adapters} value={adapters} onChange={setAdapters} />
          <input aria-label="Label" placeholder="label (optional)" value={label} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <SourcePicker value={source} onChange={setSource} />
        <div className="row">
          <label>
            context size <input aria-label="Context size" size={6} value={ctx} onChange={(e) => setCtx(e.target.value)} />
          </label>
          <label>
            at most <input aria-label="Max chunks" size={5} placeholder="all" value={maxChunks} onChange={(e) => setMaxChunks(e.target.value)} /> chunks
          </label>
          <button onClick={() => void go()} disabled={!ready || start.pending}>
            Measure
          </button>
          <FewChunksHint maxChunks={chunks} />
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
        {started !== null && <StartedRun runId={started} vocabSize={(id) => lib.models.find((m) => m.id === id)?.summary.vocabSize ?? null} />}
      </div>
      <h2>Perplexity runs</h2>
      <RunList kind="perplexity" href={(r) => `#/runs/${r.id}`} empty="No perplexity measured yet." />
    </AdaptersPage>
  );
}

/** The run just started: its progress, a link to its page, and what it made (a merged model). */
function StartedRun({ runId, vocabSize }: { runId: number; vocabSize?: (modelId: number) => number | null }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  if (!r) return null;
  const made = r.lineage.find((l) => l.direction === 'output' && l.kind === 'model');
  const ppl = r.metrics.find((m) => m.name === 'perplexity' && m.step === null);
  const stderr = r.metrics.find((m) => m.name === 'perplexity_stderr');
  const chunks = r.metrics.find((m) => m.name === 'chunks')?.value ?? null;
  const config = r.config as { contextSize?: number; variant?: { modelId?: number } };
  return (
    <div className="started-run" data-testid="started-run">
      <div className="row">
        <StatusBadge status={r.status} />
        <a href={`#/runs/${runId}`}>
          run #{runId}: {r.title}
        </a>
      </div>
      {(r.status === 'running' || r.status === 'queued') && <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />}
      {ppl && (
        <p>
          Perplexity <strong className="mono">{ppl.value.toFixed(4)}</strong>
          {stderr && <span className="mono"> ± {stderr.value.toFixed(4)}</span>}
          {chunks !== null && <span className="muted"> over {chunks} chunks</span>}
        </p>
      )}
      {ppl && vocabSize && (
        <PerplexityWarnings
          chunks={chunks}
          contextSize={config.contextSize ?? null}
          ppls={[ppl.value]}
          vocabSize={config.variant?.modelId !== undefined ? vocabSize(config.variant.modelId) : null}
        />
      )}
      {made && (
        <p>
          New model: <a href={`#/models/${made.ref}`}>{made.label}</a> · <a href={`#/playground/${made.ref}`}>try it in the Playground</a>
        </p>
      )}
      {r.error && <p className="error-text">{r.error}</p>}
    </div>
  );
}

function dirOf(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(0, i + 1) : '';
}

/** Base + adapters at scales, written as a new GGUF (F16 or F32) and added to the library with its lineage. */
export function MergePage() {
  const lib = useLibrary();
  const start = useAction('adapters.merge');
  const [modelId, setModelId] = useState<number | null>(null);
  const [out, setOut] = useState('');
  const [type, setType] = useState<'f16' | 'f32'>('f16');
  const [started, setStarted] = useState<number | null>(null);

  const model = lib.models.find((m) => m.id === modelId) ?? lib.models[0];
  // The adapters belong to the model they were chosen for: the merged model joining the library never inherits them.
  const [adapters, setAdapters] = useAttachedFor(model?.id);
  const names = adapters.map((a) => lib.adapters.find((x) => x.id === a.id)?.name ?? String(a.id));
  const suggestion = model && names.length ? `${dirOf(model.path)}${`${model.name}+${names.join('+')}-${type}`.replace(/[^A-Za-z0-9._+-]+/g, '_')}.gguf` : '';
  const target = out.trim() || suggestion;
  const ready = model && adapters.length > 0 && adapters.every((a) => parseScale(a.scale) !== null) && target !== '';
  const pickFolder = async () => {
    const dir = await desktop?.pickFolder({ title: 'Folder of the merged model' });
    if (dir) setOut(`${dir.replace(/[\\/]$/, '')}/${(suggestion || 'merged.gguf').slice(dirOf(suggestion).length)}`);
  };
  const go = async (replace = false) => {
    if (!ready) return;
    const r = await start.run({ modelId: model.id, adapters: adapters.map((a) => ({ id: a.id, scale: parseScale(a.scale)! })), out: target, type, replace });
    if (r) {
      setStarted(r.runId);
      setModelId(model.id); // stay on this base when the merged model joins the list (it may sort first)
    }
  };
  return (
    <AdaptersPage tab="merge">
      <p className="muted">
        Bake adapters into the weights: a new GGUF that behaves like the model with these adapters attached at these scales, added to the library with
        its lineage. Quantized bases are dequantized; the output is F16 or F32.
      </p>
      <div className="card" data-testid="merge-form">
        <div className="row">
          <label>
            Model{' '}
            <ModelSelect
              models={lib.models}
              value={model?.id ?? null}
              onChange={(id) => {
                setModelId(id);
                setAdapters([]);
              }}
            />
          </label>
          <AttachedEditor label="Merge" model={model} adapters={lib.adapters} value={adapters} onChange={setAdapters} />
        </div>
        <div className="row">
          <input className="grow mono" aria-label="Output file" placeholder={suggestion || '/path/to/merged.gguf'} value={out} onChange={(e) => setOut(e.target.value)} />
          {desktop && (
            <button className="secondary" onClick={() => void pickFolder()}>
              Folder…
            </button>
          )}
          <span className="segmented" role="radiogroup" aria-label="Output type">
            {(['f16', 'f32'] as const).map((t) => (
              <button key={t} role="radio" aria-checked={type === t} className={type === t ? 'on' : ''} onClick={() => setType(t)}>
                {t.toUpperCase()}
              </button>
            ))}
          </span>
          <button onClick={() => void go()} disabled={!ready || start.pending}>
            Merge
          </button>
        </div>
        {!out.trim() && suggestion && <p className="muted hint">Empty: written to {suggestion}</p>}
        <WriteErrorBanner error={start.error} onClose={start.clearError} onReplace={() => void go(true)} />
        {started !== null && <StartedRun runId={started} />}
      </div>
      <h2>Merges</h2>
      <RunList kind="adapters.merge" href={(r) => `#/runs/${r.id}`} empty="No merge yet." />
    </AdaptersPage>
  );
}
