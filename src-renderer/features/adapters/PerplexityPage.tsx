import { useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { AdaptersPage, SourcePicker, emptySource, parseScale, sourceInput, useAttachedFor, useLibrary, type SourceDraft } from './parts.js';
import { RunList } from '../../ui/RunList.js';
import { useChunking } from './useChunking.js';
import { FewChunksHint, PerplexityHelp } from './PerplexityNotes.js';
import { StartedRun } from './StartedRun.js';
import { VariantPicker } from './VariantPicker.js';

/** Perplexity of one variant (a model with adapters at scales) on a text file or a dataset split. */
export function PerplexityPage() {
  const lib = useLibrary();
  const start = useAction('adapters.perplexity');
  const [modelId, setModelId] = useState<number | null>(null);
  const [label, setLabel] = useState('');
  const [source, setSource] = useState<SourceDraft>(emptySource);
  const [started, setStarted] = useState<number | null>(null);

  const model = lib.models.find((m) => m.id === modelId) ?? lib.models[0];
  const [adapters, setAdapters] = useAttachedFor(model?.id);
  const { contextSize, chunks, fields: chunkFields } = useChunking();
  const src = sourceInput(source);
  const ready = model && src && contextSize !== null && chunks !== null && adapters.every((a) => parseScale(a.scale) !== null);
  const go = async () => {
    if (!ready) return;
    const r = await start.run({
      variant: {
        modelId: model.id,
        adapters: adapters.map((a) => ({ id: a.id, scale: parseScale(a.scale)! })),
        ...(label.trim() ? { label: label.trim() } : {}),
      },
      source: src,
      contextSize,
      ...(chunks ? { maxChunks: chunks } : {}),
    });
    if (r) setStarted(r.runId);
  };
  return (
    <AdaptersPage tab="perplexity">
      <p className="muted">
        Perplexity of a model with adapters on a text, scored like llama.cpp's <code>llama-perplexity</code> (chunks of the context size, the second half of
        each scored). Lower is better; compare variants on the same text and context size.
      </p>
      <PerplexityHelp vocabSize={model?.summary.vocabSize ?? null} />
      <div className="card" data-testid="perplexity-form">
        <div className="row">
          <VariantPicker
            label="Perplexity"
            models={lib.models}
            adapters={lib.adapters}
            model={model}
            onModel={setModelId}
            value={adapters}
            onChange={setAdapters}
          />
          <input aria-label="Label" placeholder="label (optional)" value={label} onChange={(e) => setLabel(e.target.value)} />
        </div>
        <SourcePicker value={source} onChange={setSource} />
        <div className="row">
          {chunkFields}
          <button onClick={() => void go()} disabled={!ready || start.pending}>
            Measure
          </button>
          <FewChunksHint maxChunks={chunks} />
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
        {started !== null && <StartedRun runId={started} vocabSize={(id) => lib.models.find((m) => m.id === id)?.summary.vocabSize ?? null} />}
      </div>
      <h2>Perplexity runs</h2>
      <RunList kind="adapters.perplexity" href={(r) => `#/runs/${r.id}`} empty="No perplexity measured yet." />
    </AdaptersPage>
  );
}
