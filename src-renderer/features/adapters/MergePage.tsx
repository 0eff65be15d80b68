import { useState } from 'react';
import { desktop } from '../../client.js';
import { useAction } from '../../ui/useApi.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';
import { AdaptersPage, parseScale, useAttachedFor, useLibrary } from './parts.js';
import { RunList } from '../../ui/RunList.js';
import { StartedRun } from './StartedRun.js';
import { VariantPicker } from './VariantPicker.js';

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
        Bake adapters into the weights: a new GGUF that behaves like the model with these adapters attached at these scales, added to the library with its
        lineage. Quantized bases are dequantized; the output is F16 or F32.
      </p>
      <div className="card" data-testid="merge-form">
        <div className="row">
          <VariantPicker label="Merge" models={lib.models} adapters={lib.adapters} model={model} onModel={setModelId} value={adapters} onChange={setAdapters} />
        </div>
        <div className="row">
          <input
            className="grow mono"
            aria-label="Output file"
            placeholder={suggestion || '/path/to/merged.gguf'}
            value={out}
            onChange={(e) => setOut(e.target.value)}
          />
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
