import { useMemo, useState } from 'react';
import type { CompareResults } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import { ErrorBanner, ProgressBar, StatusBadge } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { num } from '../../ui/format.js';
import { AdaptersPage, AttachedEditor, ModelSelect, RunList, SplitSelect, parseNumber, parseScale, useLibrary, type ScaleDraft } from './parts.js';
import { diffCounts, wordDiff, type DiffPart } from './wordDiff.js';
import { useRunControls } from '../../ui/useRunControls.js';
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
export function ComparePage() {
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
  if (promptSource === 'typed' ? typed.length === 0 : !ds.dataset || limit === null) problems.push(promptSource === 'typed' ? 'type a prompt' : 'choose a dataset');
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
        The same prompts through 2–6 variants — a model with adapters at scales — with the same seed and settings, answers side by side. Mark the better
        answer of each prompt; the tally says which variant wins.
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
                      setVariant(i, { modelId: id, adapters: v.adapters.filter((a) => lib.adapters.find((x) => x.id === a.id)?.arch === m?.summary.architecture) });
                    }}
                  />
                  <AttachedEditor label={`Variant ${i + 1}`} model={model} adapters={lib.adapters} value={v.adapters} onChange={(adapters) => setVariant(i, { adapters })} />
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
            <button role="radio" aria-checked={promptSource === 'typed'} className={promptSource === 'typed' ? 'on' : ''} onClick={() => setPromptSource('typed')}>
              Typed
            </button>
            <button role="radio" aria-checked={promptSource === 'dataset'} className={promptSource === 'dataset' ? 'on' : ''} onClick={() => setPromptSource('dataset')}>
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
            <button role="radio" aria-checked={effectiveMode === 'completion'} className={effectiveMode === 'completion' ? 'on' : ''} onClick={() => setMode('completion')}>
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

/** "same as A", or how many words were added and dropped against A's answer. */
function versusA(d: DiffPart[]): string {
  const { added, removed } = diffCounts(d);
  if (added === 0 && removed === 0) return 'same as A';
  return `vs A: +${added} −${removed} words`;
}

const COLORS = ['#4fb3ff', '#f2a33a', '#7bd88f', '#e06c75', '#c678dd', '#56b6c2'];

/** A comparison's answers, prompt by prompt, as they arrive; the user's verdicts and their tally. */
export function CompareRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const results = useQuery('adapters.compareResults', { runId }, ['runs.changed'], [runId]);
  const vote = useAction('adapters.vote');
  const [showRemoved, setShowRemoved] = useState(false);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const c = results.data;
  const refetch = results.refetch;
  const mark = (prompt: number, winner: number | null) => void vote.run({ runId, prompt, winner }).then((t) => t && refetch());
  const config = r?.config as { generation?: { temperature: number; maxTokens: number; seed: number | null }; mode?: string; source?: string } | undefined;
  const ties = c?.prompts.filter((p) => p.winner === -1).length ?? 0;
  const marked = c?.prompts.filter((p) => p.winner !== null).length ?? 0;
  return (
    <AdaptersPage
      tab="compare"
      title={
        <>
          <a href="#/adapters/compare" className="crumb">
            Compare
          </a>{' '}
          / run {runId}
        </>
      }
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? results.error ?? controls.error ?? vote.error} />
      {r && (
        <div className="card" data-testid="compare-progress">
          <div className="row">
            <StatusBadge status={r.status} /> <strong>{r.title}</strong>
          </div>
          <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />
          {config?.generation && (
            <p className="muted">
              {config.mode} · temperature {config.generation.temperature} · max {config.generation.maxTokens} tokens · seed {config.generation.seed ?? 'random'} ·{' '}
              {config.source}
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </div>
      )}
      {c && (
        <>
          <div className="compare-summary">
            <div className="card tally" data-testid="compare-tally">
              <h2>Wins</h2>
              <div className="bars">
                {c.variants.map((v) => (
                  <div key={v.index} className="bar-row" data-testid={`tally-${v.index}`}>
                    <span className="bar-label ellipsis" title={v.label}>
                      <span className="variant-index" style={{ background: COLORS[v.index % COLORS.length] }}>
                        {String.fromCharCode(65 + v.index)}
                      </span>{' '}
                      {v.label}
                    </span>
                    <span className="bar-track">
                      <span className="bar" style={{ width: `${marked ? (100 * c.tally[v.index]!) / marked : 0}%`, background: COLORS[v.index % COLORS.length] }} />
                    </span>
                    <span className="bar-value">{c.tally[v.index]}</span>
                  </div>
                ))}
                <div className="bar-row muted">
                  <span className="bar-label">ties</span>
                  <span className="bar-track">
                    <span className="bar" style={{ width: `${marked ? (100 * ties) / marked : 0}%`, background: 'var(--line)' }} />
                  </span>
                  <span className="bar-value">{ties}</span>
                </div>
              </div>
              <p className="muted hint">
                {marked} of {c.prompts.length} prompts marked
              </p>
            </div>
            <div className="card legend">
              <h2>Differences</h2>
              <p className="muted">
                Words of an answer that are not in variant A's answer are <mark className="diff-add">highlighted</mark>.
              </p>
              <label>
                <input type="checkbox" checked={showRemoved} onChange={(e) => setShowRemoved(e.target.checked)} /> also show A's words an answer lacks (
                <span className="diff-rem">struck out</span>)
              </label>
            </div>
          </div>
          {c.prompts.map((p) => (
            <PromptRow key={p.index} p={p} variants={c.variants} showRemoved={showRemoved} onVote={mark} live={!r || r.status === 'running' || r.status === 'queued'} />
          ))}
        </>
      )}
    </AdaptersPage>
  );
}

function PromptRow({
  p,
  variants,
  showRemoved,
  onVote,
  live,
}: {
  p: CompareResults['prompts'][number];
  variants: CompareResults['variants'];
  showRemoved: boolean;
  onVote: (prompt: number, winner: number | null) => void;
  /** The run is still going: a missing answer is on its way. */
  live: boolean;
}) {
  const base = p.answers[0]?.text ?? null;
  const diffs = useMemo(() => p.answers.map((a, i) => (a && base !== null && i > 0 ? wordDiff(base, a.text) : null)), [p.answers, base]);
  const complete = p.answers.every((a) => a !== null);
  return (
    <div className="card compare-prompt" data-testid={`compare-prompt-${p.index}`}>
      <div className="row compare-prompt-head">
        <span className="muted">#{p.index + 1}</span>
        <div className="pre grow prompt-text">{p.prompt}</div>
        <button
          className={`secondary small${p.winner === -1 ? ' chosen' : ''}`}
          aria-pressed={p.winner === -1}
          disabled={!complete}
          onClick={() => onVote(p.index, p.winner === -1 ? null : -1)}
        >
          Tie
        </button>
        {p.winner !== null && (
          <button className="link small" onClick={() => onVote(p.index, null)}>
            clear
          </button>
        )}
      </div>
      <div className="answers-grid" style={{ gridTemplateColumns: `repeat(${variants.length}, minmax(0, 1fr))` }}>
        {variants.map((v, i) => {
          const a = p.answers[i] ?? null;
          const d = diffs[i];
          const won = p.winner === i;
          return (
            <div key={v.index} className={`answer${won ? ' won' : ''}`} data-testid={`answer-${p.index}-${i}`} style={{ borderTopColor: COLORS[i % COLORS.length] }}>
              <div className="answer-head">
                <span className="variant-index" style={{ background: COLORS[i % COLORS.length] }}>
                  {String.fromCharCode(65 + i)}
                </span>
                <span className="ellipsis" title={v.label}>
                  {v.label}
                </span>
              </div>
              {a === null ? (
                <div className="answer-text muted">{live ? 'waiting…' : 'not answered: resume the run'}</div>
              ) : (
                <>
                  <div className="answer-text">
                    {d
                      ? d.map((part, k) =>
                          part.kind === 'same' ? (
                            <span key={k}>{part.text}</span>
                          ) : part.kind === 'added' ? (
                            <mark key={k} className="diff-add">
                              {part.text}
                            </mark>
                          ) : showRemoved ? (
                            <span key={k} className="diff-rem">
                              {part.text}
                            </span>
                          ) : null,
                        )
                      : a.text || <span className="muted">(empty)</span>}
                  </div>
                  <div className="answer-foot">
                    <span className="muted" title={`${a.text.length} characters`}>
                      {a.text.split(/\s+/).filter(Boolean).length} words · {a.tokens} tokens · {num(a.tokensPerSecond)} tokens/s · {a.ms < 1000 ? `${Math.round(a.ms)} ms` : `${(a.ms / 1000).toFixed(1)} s`}
                      {i > 0 && d && <> · {versusA(d)}</>}
                    </span>
                    <button
                      className={`small${won ? ' chosen' : ' secondary'}`}
                      aria-pressed={won}
                      aria-label={`${String.fromCharCode(65 + i)} is better on prompt ${p.index + 1}`}
                      disabled={!complete}
                      onClick={() => onVote(p.index, won ? null : i)}
                    >
                      {won ? '★ better' : 'Better'}
                    </button>
                  </div>
                </>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
