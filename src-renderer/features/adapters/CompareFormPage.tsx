import { useState } from 'react';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { AdaptersPage, AttachedEditor, parseScale, useLibrary, type ScaleDraft } from './parts.js';
import { ModelSelect, SplitSelect, parseNumber } from '../../ui/forms.js';
import { RunList } from '../../ui/RunList.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';

interface VariantDraft {
  /** null: the first model of the library. */
  modelId: number | null;
  adapters: ScaleDraft[];
  label: string;
}
const newVariant = (): VariantDraft => ({ modelId: null, adapters: [], label: '' });

/** What the run will call a variant unless it is named: "student + A×0.5 + B". */
function defaultLabel(model: ModelEntry | undefined, v: VariantDraft, adapters: AdapterEntry[]): string {
  if (!model) return '';
  return [
    model.name,
    ...v.adapters.map((a) => {
      const name = adapters.find((x) => x.id === a.id)?.name ?? String(a.id);
      const s = parseScale(a.scale);
      return s === 1 ? name : `${name}×${s ?? '?'}`;
    }),
  ].join(' + ');
}

/** The comparison form: 2–6 variants, the prompts, one set of generation settings for all. */
export function CompareFormPage() {
  const lib = useLibrary();
  const start = useAction('adapters.compare');
  const [variants, setVariants] = useState<VariantDraft[]>(() => [newVariant(), newVariant()]);
  const [promptSource, setPromptSource] = useState<'typed' | 'dataset'>('typed');
  const [prompts, setPrompts] = useState<string[]>(['']);
  const [ds, setDs] = useState({ dataset: '', split: 'all' as 'all' | 'train' | 'validation' | 'test', limit: '20' });
  const [gen, setGen] = useState({ temperature: '0', maxTokens: '256', seed: '42' });
  const [mode, setMode] = useState<'chat' | 'completion' | null>(null);

  const modelOf = (v: VariantDraft) => lib.models.find((m) => m.id === v.modelId) ?? lib.models[0];
  const chosen = variants.map(modelOf);
  const chatAvailable = chosen.every((m) => m?.summary.hasChatTemplate);
  const effectiveMode = mode ?? (chatAvailable ? 'chat' : 'completion');

  const temperature = parseNumber(gen.temperature, { min: 0, max: 5 });
  const maxTokens = parseNumber(gen.maxTokens, { min: 1, max: 8192, int: true });
  const seed = gen.seed.trim() === '' ? null : parseNumber(gen.seed, { min: 0, max: 2 ** 32 - 1, int: true });
  const limit = parseNumber(ds.limit, { min: 1, max: 1000, int: true });
  const typed = prompts.map((p) => p.trim()).filter(Boolean);
  const problems: string[] = [];
  if (chosen.some((m) => !m)) problems.push('every variant needs a model');
  if (variants.some((v) => v.adapters.some((a) => parseScale(a.scale) === null))) problems.push('a scale is not a number between −10 and 10');
  if (promptSource === 'typed' ? typed.length === 0 : !ds.dataset || limit === null)
    problems.push(promptSource === 'typed' ? 'type a prompt' : 'choose a dataset');
  if (temperature === null || maxTokens === null || (gen.seed.trim() !== '' && seed === null)) problems.push('check the generation settings');

  const setVariant = (i: number, patch: Partial<VariantDraft>) => setVariants(variants.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  const go = async () => {
    const r = await start.run({
      variants: variants.map((v, i) => ({
        modelId: chosen[i]!.id,
        adapters: v.adapters.map((a) => ({ id: a.id, scale: parseScale(a.scale)! })),
        ...(v.label.trim() ? { label: v.label.trim() } : {}),
      })),
      prompts: promptSource === 'typed' ? { texts: typed } : { dataset: ds.dataset, split: ds.split, limit: limit! },
      generation: { temperature: temperature!, maxTokens: maxTokens!, seed },
      mode: effectiveMode,
    });
    if (r) navigate(`/adapters/compare/${r.runId}`);
  };

  return (
    <AdaptersPage tab="compare">
      <p className="muted">
        The same prompts through 2–6 variants — a model with adapters at scales — with the same seed and settings, answers side by side. Mark the better answer
        of each prompt; the tally says which variant wins.
      </p>
      <div className="card" data-testid="compare-form">
        <h2>Variants</h2>
        <div className="variants">
          {variants.map((v, i) => {
            const model = chosen[i];
            return (
              <fieldset key={i} className="variant" aria-label={`Variant ${i + 1}`}>
                <legend>
                  <span className="variant-index">{String.fromCharCode(65 + i)}</span> Variant {i + 1}
                </legend>
                <div className="row">
                  <ModelSelect
                    label={`Variant ${i + 1} model`}
                    models={lib.models}
                    value={model?.id ?? null}
                    onChange={(id) => {
                      const m = lib.models.find((x) => x.id === id);
                      // adapters of another architecture cannot follow the model
                      setVariant(i, {
                        modelId: id,
                        adapters: v.adapters.filter((a) => lib.adapters.find((x) => x.id === a.id)?.arch === m?.summary.architecture),
                      });
                    }}
                  />
                  <AttachedEditor
                    label={`Variant ${i + 1}`}
                    model={model}
                    adapters={lib.adapters}
                    value={v.adapters}
                    onChange={(adapters) => setVariant(i, { adapters })}
                  />
                </div>
                <div className="row">
                  <input
                    className="grow"
                    aria-label={`Variant ${i + 1} label`}
                    placeholder={defaultLabel(model, v, lib.adapters) || 'label (optional)'}
                    value={v.label}
                    onChange={(e) => setVariant(i, { label: e.target.value })}
                  />
                  {variants.length > 2 && (
                    <button className="link" onClick={() => setVariants(variants.filter((_, j) => j !== i))} aria-label={`Remove variant ${i + 1}`}>
                      remove
                    </button>
                  )}
                </div>
              </fieldset>
            );
          })}
        </div>
        {variants.length < 6 && (
          <button className="secondary" onClick={() => setVariants([...variants, { ...newVariant(), modelId: variants.at(-1)?.modelId ?? null }])}>
            Add variant
          </button>
        )}

        <h2>Prompts</h2>
        <div className="row">
          <span className="segmented" role="radiogroup" aria-label="Prompts from">
            <button
              role="radio"
              aria-checked={promptSource === 'typed'}
              className={promptSource === 'typed' ? 'on' : ''}
              onClick={() => setPromptSource('typed')}
            >
              Typed
            </button>
            <button
              role="radio"
              aria-checked={promptSource === 'dataset'}
              className={promptSource === 'dataset' ? 'on' : ''}
              onClick={() => setPromptSource('dataset')}
            >
              From a dataset
            </button>
          </span>
        </div>
        {promptSource === 'typed' ? (
          <>
            {prompts.map((p, i) => (
              <div key={i} className="prompt-input">
                <textarea
                  rows={2}
                  aria-label={`Prompt ${i + 1}`}
                  placeholder={`Prompt ${i + 1}`}
                  value={p}
                  onChange={(e) => setPrompts(prompts.map((x, j) => (j === i ? e.target.value : x)))}
                />
                {prompts.length > 1 && (
                  <button className="link" aria-label={`Remove prompt ${i + 1}`} onClick={() => setPrompts(prompts.filter((_, j) => j !== i))}>
                    ×
                  </button>
                )}
              </div>
            ))}
            <div className="row">
              <button className="secondary" onClick={() => setPrompts([...prompts, ''])} disabled={prompts.length >= 1000}>
                Add prompt
              </button>
              <button
                className="link"
                title="Each line of every box becomes its own prompt"
                disabled={!prompts.some((p) => p.includes('\n'))}
                onClick={() => setPrompts(prompts.flatMap((p) => p.split(/\r?\n/)).filter((p) => p.trim()))}
              >
                split lines into prompts
              </button>
            </div>
          </>
        ) : (
          <div className="row">
            <DatasetSelect label="Prompt dataset" value={ds.dataset} onChange={(dataset) => setDs({ ...ds, dataset })} />
            <SplitSelect value={ds.split} onChange={(split) => setDs({ ...ds, split })} />
            <label>
              first <input aria-label="Prompt limit" size={5} value={ds.limit} onChange={(e) => setDs({ ...ds, limit: e.target.value })} /> prompts
            </label>
            <span className="muted">the last user message of each example</span>
          </div>
        )}

        <h2>Generation (the same for every variant)</h2>
        <div className="row">
          <span className="segmented" role="radiogroup" aria-label="Mode">
            <button
              role="radio"
              aria-checked={effectiveMode === 'chat'}
              className={effectiveMode === 'chat' ? 'on' : ''}
              disabled={!chatAvailable}
              title={chatAvailable ? "Each model's chat template" : 'A model of these variants has no chat template'}
              onClick={() => setMode('chat')}
            >
              Chat
            </button>
            <button
              role="radio"
              aria-checked={effectiveMode === 'completion'}
              className={effectiveMode === 'completion' ? 'on' : ''}
              onClick={() => setMode('completion')}
            >
              Completion
            </button>
          </span>
          <label>
            temperature <input aria-label="temperature" size={4} value={gen.temperature} onChange={(e) => setGen({ ...gen, temperature: e.target.value })} />
          </label>
          <label>
            max tokens <input aria-label="max tokens" size={5} value={gen.maxTokens} onChange={(e) => setGen({ ...gen, maxTokens: e.target.value })} />
          </label>
          <label>
            seed <input aria-label="seed" size={8} value={gen.seed} placeholder="random" onChange={(e) => setGen({ ...gen, seed: e.target.value })} />
          </label>
        </div>
        <div className="row">
          <button onClick={() => void go()} disabled={problems.length > 0 || start.pending || !lib.loaded}>
            Compare
          </button>
          {problems.length > 0 && lib.loaded && <span className="muted">{problems.join(' · ')}</span>}
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
      </div>
      <h2>Comparisons</h2>
      <RunList kind="adapters.compare" href={(r) => `#/adapters/compare/${r.id}`} empty="No comparison yet." />
    </AdaptersPage>
  );
}
