import { useMemo, useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import {
  AdaptersPage,
  AttachedEditor,
  SourcePicker,
  adaptersFor,
  emptySource,
  useCompatibility,
  whyNot,
  parseScale,
  sourceInput,
  useLibrary,
  type ScaleDraft,
  type SourceDraft,
} from './parts.js';
import { RunList } from '../../ui/RunList.js';
import { SweepChart } from './SweepChart.js';
import { ModelField } from './VariantPicker.js';
import { useChunking } from './useChunking.js';
import { FewChunksHint, PerplexityHelp, PerplexityWarnings } from './PerplexityNotes.js';
import { useRunControls } from '../../ui/useRunControls.js';

export const DEFAULT_SCALES = '0, 0.25, 0.5, 0.75, 1, 1.25, 1.5';

/** "0, 0.5, 1" → [0, 0.5, 1]; null when an entry is not a number in −10…10, one repeats, or there are fewer than 2 or more than 32. */
export function parseScales(s: string): number[] | null {
  const parts = s.split(/[\s,;]+/).filter(Boolean);
  const v = parts.map(parseScale);
  if (v.some((x) => x === null) || v.length < 2 || v.length > 32 || new Set(v).size !== v.length) return null;
  return v as number[];
}

/** The sweep form: one adapter at several scales on one model, perplexity on a text at each. */
export function SweepPage() {
  const lib = useLibrary();
  const start = useAction('adapters.sweep');
  const [modelId, setModelId] = useState<number | null>(null);
  const [adapterId, setAdapterId] = useState<number | null>(null);
  const [fixed, setFixed] = useState<ScaleDraft[]>([]);
  const [scales, setScales] = useState(DEFAULT_SCALES);
  const [source, setSource] = useState<SourceDraft>(emptySource);

  const model = lib.models.find((m) => m.id === modelId) ?? lib.models[0];
  const compat = useCompatibility(model);
  const usable = adaptersFor(model, lib.adapters, compat);
  const adapter = usable.find((a) => a.id === adapterId) ?? usable[0];
  const parsedScales = parseScales(scales);
  const { contextSize, chunks, fields: chunkFields } = useChunking();
  const src = sourceInput(source);
  const fixedOk = fixed.every((f) => parseScale(f.scale) !== null && f.id !== adapter?.id);
  const ready = model && adapter && parsedScales && contextSize !== null && chunks !== null && src && fixedOk;

  const go = async () => {
    if (!ready) return;
    const r = await start.run({
      modelId: model.id,
      adapterId: adapter.id,
      fixed: fixed.map((f) => ({ id: f.id, scale: parseScale(f.scale)! })),
      scales: parsedScales,
      source: src,
      contextSize,
      ...(chunks ? { maxChunks: chunks } : {}),
    });
    if (r) navigate(`/adapters/sweep/${r.runId}`);
  };

  return (
    <AdaptersPage tab="sweep">
      <p className="muted">
        How strong should an adapter be? Perplexity on a text at each scale (0 = the base model alone): lower is better, on text like the adapter's training
        data.
      </p>
      <PerplexityHelp vocabSize={model?.summary.vocabSize ?? null} />
      <div className="card" data-testid="sweep-form">
        <div className="row">
          <ModelField
            models={lib.models}
            model={model}
            onChange={(id) => {
              setModelId(id);
              setFixed([]);
            }}
          />
          <label>
            Adapter{' '}
            <select aria-label="Adapter" value={adapter?.id ?? ''} onChange={(e) => setAdapterId(Number(e.target.value))} disabled={usable.length === 0}>
              {usable.length === 0 && <option value="">none fits {model?.name ?? 'this model'}</option>}
              {usable.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} (rank {a.rank}, {a.targets.join(', ')})
                </option>
              ))}
              {model &&
                lib.adapters.flatMap((a) => {
                  const why = whyNot(model, a, compat);
                  return why === null ? [] : [<option key={a.id} value={a.id} disabled title={why}>{`${a.name}: ${why}`}</option>];
                })}
            </select>
          </label>
        </div>
        <div className="row">
          <span className="muted">also attached, at fixed scales:</span>
          <AttachedEditor
            label="Fixed"
            model={model}
            adapters={lib.adapters.filter((a) => a.id !== adapter?.id)}
            value={fixed.filter((f) => f.id !== adapter?.id)}
            onChange={setFixed}
          />
        </div>
        <div className="row">
          <label className="grow">
            Scales{' '}
            <input
              className={`mono${parsedScales ? '' : ' invalid'}`}
              aria-label="Scales"
              size={40}
              value={scales}
              onChange={(e) => setScales(e.target.value)}
            />
          </label>
          <button className="link" onClick={() => setScales(DEFAULT_SCALES)}>
            default
          </button>
          {!parsedScales && <span className="error-text">2 to 32 different numbers between −10 and 10, separated by commas</span>}
        </div>
        <SourcePicker value={source} onChange={setSource} />
        <div className="row">
          {chunkFields}
          <button onClick={() => void go()} disabled={!ready || start.pending}>
            Sweep
          </button>
          <FewChunksHint maxChunks={chunks} />
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
      </div>
      <h2>Sweeps</h2>
      <RunList kind="adapters.sweep" href={(r) => `#/adapters/sweep/${r.id}`} empty="No sweep yet." />
    </AdaptersPage>
  );
}

/** A sweep's chart and table, growing as each scale's perplexity is committed. */
export function SweepRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const points = useQuery('adapters.sweepPoints', { runId }, ['runs.changed'], [runId]);
  const lib = useLibrary();
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const config = r?.kind === 'adapters.sweep' ? r.config : null;
  const vocabSize = lib.models.find((m) => m.id === config?.variant?.modelId)?.summary.vocabSize ?? null;
  const chunks = r?.metrics.find((m) => m.name === 'chunks')?.value ?? null;
  // stable identities for the chart: it redraws only when the figures change
  const pointsJson = JSON.stringify(points.data ?? []);
  const plannedJson = JSON.stringify(config?.scales ?? []);
  const pts = useMemo(() => JSON.parse(pointsJson) as { scale: number; ppl: number; stderr: number }[], [pointsJson]);
  const planned = useMemo(() => JSON.parse(plannedJson) as number[], [plannedJson]);
  const base = pts.find((p) => p.scale === 0);
  const best = pts.length ? pts.reduce((a, b) => (b.ppl < a.ppl ? b : a)) : null;
  const rows = planned.length
    ? planned.map((s) => ({ scale: s, point: pts.find((p) => p.scale === s) ?? null }))
    : pts.map((p) => ({ scale: p.scale, point: p }));
  return (
    <AdaptersPage
      tab="sweep"
      title={<RunCrumbs href="#/adapters/sweep" label="Scale sweep" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? points.error ?? controls.error} />
      {r && (
        <RunProgress run={r} testId="sweep-progress">
          {config?.source && (
            <p className="muted">
              on{' '}
              {config.source.kind === 'file' ? (
                <code>{config.source.path}</code>
              ) : (
                `${config.source.label}${config.source.split === 'all' ? '' : ` (${config.source.split})`}`
              )}{' '}
              · context {config.contextSize} tokens
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
          <PerplexityWarnings chunks={chunks} contextSize={config?.contextSize ?? null} ppls={pts.map((p) => p.ppl)} vocabSize={vocabSize} />
        </RunProgress>
      )}
      <div className="sweep-result">
        <div className="card">
          <h2>Perplexity by scale</h2>
          {planned.length > 0 && <SweepChart points={pts} planned={planned} />}
          {pts.length === 0 && <p className="muted">The first point appears when the first scale is scored.</p>}
        </div>
        <div className="card">
          <h2>Points</h2>
          <table className="table compact" data-testid="sweep-table">
            <thead>
              <tr>
                <th>Scale</th>
                <th>Perplexity</th>
                <th>± stderr</th>
                <th>vs scale 0</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ scale, point }) => (
                <tr key={scale} className={point && best && point === best && pts.length > 1 ? 'best' : point ? '' : 'pending'}>
                  <td className="mono">{scale}</td>
                  <td className="mono">{point ? point.ppl.toFixed(4) : <span className="muted">…</span>}</td>
                  <td className="mono">{point ? point.stderr.toFixed(4) : ''}</td>
                  <td className="mono">
                    {point && base && point !== base
                      ? `${point.ppl < base.ppl ? '−' : '+'}${((100 * Math.abs(point.ppl - base.ppl)) / base.ppl).toFixed(2)}%`
                      : ''}
                    {point && best && point === best && pts.length > 1 ? <span className="ok-text"> lowest</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </AdaptersPage>
  );
}
