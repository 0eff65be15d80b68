import { useState } from 'react';
import { QUANT_TYPES } from '../../../src-shared/domain/quantize.js';
import { navigate } from '../../app/router.js';
import { Page } from '../../ui/components.js';
import { ModelSelect } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';
import { RunList } from '../../ui/RunList.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { useGateOptions, useImatrixOptions } from './QuantizeOptions.js';

/** What a new user is offered first: the types people ship most, none needing an importance matrix. */
const DEFAULT_TYPES = ['Q8_0', 'Q6_K', 'Q4_K_M'];
const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16']);

/** A ladder of GGUF types from one model: pick the source, the types, an importance matrix; start. */
export function QuantizePage() {
  const models = useQuery('models.list', {}, ['models.changed']);
  const start = useAction('quantize.start');
  const [modelId, setModelId] = useState<number | null>(null);
  const [types, setTypes] = useState<string[]>(DEFAULT_TYPES);
  const imatrix = useImatrixOptions();
  const gate = useGateOptions(imatrix.dataset);
  const [outDir, setOutDir] = useState('');
  const [pure, setPure] = useState(false);
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
    <Page title="Quantize">
      <p className="muted">
        Make smaller, faster files of a model: one run writes every type you tick, each added to the library with where it came from. Start from an F16 or F32
        model (a merged one included). Types marked ◆ need an importance matrix (from <code>llama-imatrix</code> or made in the app).
      </p>
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
      <h2>Ladders</h2>
      <RunList kind="quantize.ladder" href={(r) => `#/quantize/${r.id}`} empty="No quantization yet." />
    </Page>
  );
}
