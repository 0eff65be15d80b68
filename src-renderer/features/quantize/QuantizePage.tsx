import { useState } from 'react';
import { QUANT_TYPES } from '../../../src-shared/domain/quantize.js';
import { navigate, useRoute } from '../../app/router.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { ModelSelect } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';
import { RunList } from '../../ui/RunList.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { useGateOptions, useImatrixOptions } from './QuantizeOptions.js';
import { quantizeFormFromRun, type QuantizeInitial } from './quantize-form.js';
import { LatestVersionNote } from '../datasets/LatestVersionNote.js';

/** What a new user is offered first: the types people ship most, none needing an importance matrix. */
const DEFAULT_TYPES = ['Q8_0', 'Q6_K', 'Q4_K_M'];
const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16']);

/** A ladder of GGUF types from one model (at #/quantize/again/<run>: the form filled with that run's settings), and the ladders so far. */
export function QuantizePage() {
  const route = useRoute();
  const againId = route[1] === 'again' && /^\d+$/.test(route[2] ?? '') ? Number(route[2]) : null;
  return (
    <Page title="Quantize">
      <p className="muted">
        Make smaller, faster files of a model: one run writes every type you tick, each added to the library with where it came from. Start from an F16 or F32
        model (a merged one included). Types marked ◆ need an importance matrix (from <code>llama-imatrix</code> or made in the app).
      </p>
      {againId !== null ? <AgainForm key={againId} runId={againId} /> : <QuantizeForm initial={null} />}
      <h2>Ladders</h2>
      <RunList kind="quantize.ladder" href={(r) => `#/quantize/${r.id}`} empty="No quantization yet." />
    </Page>
  );
}

/** The form filled with a past ladder's settings ("run again from here"). */
function AgainForm({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId });
  if (run.error) return <ErrorBanner error={run.error} />;
  if (!run.data) return <p className="muted">Loading the settings of run {runId}…</p>;
  const r = run.data;
  if (r.kind !== 'quantize.ladder' || r.config === null)
    return <ErrorBanner error={new Error(r.configError ?? `run ${runId} is not a ladder (it is ${r.kind})`)} />;
  return <QuantizeForm initial={{ ...quantizeFormFromRun(r.config), from: runId }} />;
}

function QuantizeForm({ initial }: { initial: (QuantizeInitial & { from: number }) | null }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const start = useAction('quantize.start');
  const [modelId, setModelId] = useState<number | null>(initial?.modelId ?? null);
  const [types, setTypes] = useState<string[]>(initial?.types ?? DEFAULT_TYPES);
  const imatrix = useImatrixOptions(initial?.imatrix);
  const gate = useGateOptions(imatrix.dataset, initial?.gate);
  const [outDir, setOutDir] = useState('');
  const [pure, setPure] = useState(initial?.pure ?? false);
  const list = models.data ?? [];
  // float models first: they are what a ladder starts from
  const sources = [...list].sort((a, b) => Number(FLOAT_TYPES.has(b.summary.fileType)) - Number(FLOAT_TYPES.has(a.summary.fileType)));
  const model = list.find((m) => m.id === modelId) ?? sources[0];
  const quantized = model !== undefined && !FLOAT_TYPES.has(model.summary.fileType);
  const missingImatrix = !imatrix.chosen ? QUANT_TYPES.filter((t) => t.needsImatrix && types.includes(t.name)).map((t) => t.name) : [];
  const ready = model !== undefined && types.length > 0 && missingImatrix.length === 0 && imatrix.input !== null && gate.input !== null;
  const toggle = (name: string) => setTypes((ts) => (ts.includes(name) ? ts.filter((t) => t !== name) : [...ts, name]));
  const go = async (replace = false) => {
    if (!ready) return;
    const r = await start.run({
      modelId: model.id,
      types,
      ...imatrix.input,
      ...gate.input,
      ...(outDir.trim() ? { outDir: outDir.trim() } : {}),
      pure,
      allowRequantize: quantized,
      replace,
    });
    if (r) navigate(`/quantize/${r.runId}`);
  };
  return (
    <>
      {initial && (
        <>
          <p className="muted" data-testid="quantize-again">
            Filled with the settings of run {initial.from}: change what its result asks for, then Quantize.
          </p>
          {initial.datasets.map((d) => (
            <LatestVersionNote key={d.name} name={d.name} ran={d.version} />
          ))}
        </>
      )}
      <div className="card" data-testid="quantize-form">
        <div className="row">
          <label>Source</label>
          <ModelSelect models={sources} value={model?.id ?? null} onChange={setModelId} label="Source model" />
          {model && <span className="muted">{model.summary.fileType}</span>}
        </div>
        {quantized && (
          <p className="warn-text">
            {model.name} is already quantized ({model.summary.fileType}): quantizing it again loses more quality than starting from its F16/F32 original.
          </p>
        )}
        <div className="quant-types" role="group" aria-label="Types">
          {QUANT_TYPES.map((t) => (
            <label
              key={t.name}
              className={`quant-type${types.includes(t.name) ? ' on' : ''}${t.needsImatrix && !imatrix.chosen ? ' off' : ''}`}
              title={`${t.bpw} bits/weight${t.note ? ` · ${t.note}` : ''}${t.needsImatrix && !imatrix.chosen ? ' · needs an importance matrix: choose or compute one below' : ''}`}
            >
              <input
                type="checkbox"
                checked={types.includes(t.name)}
                onChange={() => toggle(t.name)}
                disabled={t.needsImatrix && !imatrix.chosen && !types.includes(t.name)}
              />
              {t.name}
              {t.needsImatrix && <span aria-label="needs an importance matrix"> ◆</span>}
            </label>
          ))}
        </div>
        {imatrix.fields}
        {gate.fields}
        <div className="row">
          <PathField
            value={outDir}
            onChange={setOutDir}
            label="Output folder"
            placeholder="output folder (default: quantized/<model>/ in the data folder)"
            pick={{ kind: 'folder', title: 'Output folder' }}
          />
          <label className="inline">
            <input type="checkbox" checked={pure} onChange={(e) => setPure(e.target.checked)} /> pure (no k-quant mixture)
          </label>
          <button onClick={() => void go()} disabled={!ready || start.pending}>
            Quantize {types.length ? `(${types.length} type${types.length === 1 ? '' : 's'})` : ''}
          </button>
        </div>
        {missingImatrix.length > 0 && (
          <p className="warn-text" data-testid="needs-imatrix">
            {missingImatrix.join(', ')} need{missingImatrix.length === 1 ? 's' : ''} an importance matrix: choose or compute one, or untick{' '}
            {missingImatrix.length === 1 ? 'it' : 'them'}.
          </p>
        )}
        <WriteErrorBanner error={start.error} onClose={start.clearError} onReplace={() => void go(true)} />
      </div>
    </>
  );
}
