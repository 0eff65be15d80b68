import { useEffect, useState, type ReactNode } from 'react';
import { client } from '../../client.js';
import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { Page } from '../../ui/components.js';
import { SplitSelect, type Split } from '../../ui/forms.js';
import { useQuery } from '../../ui/useApi.js';
import { PathField } from '../../ui/PathField.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';

export type AdaptersTab = 'library' | 'compare' | 'sweep' | 'perplexity' | 'merge';

const TABS: { id: AdaptersTab; label: string; href: string }[] = [
  { id: 'library', label: 'Library', href: '#/adapters' },
  { id: 'compare', label: 'Compare', href: '#/adapters/compare' },
  { id: 'sweep', label: 'Scale sweep', href: '#/adapters/sweep' },
  { id: 'perplexity', label: 'Perplexity', href: '#/adapters/perplexity' },
  { id: 'merge', label: 'Merge', href: '#/adapters/merge' },
];

/** The Adapters area's page: its tabs under the title. */
export function AdaptersPage({ tab, title, actions, children }: { tab: AdaptersTab; title?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <Page title={title ?? 'Adapters'} actions={actions}>
      <nav className="tabs" aria-label="Adapters">
        {TABS.map((t) => (
          <a key={t.id} href={t.href} className={`tab${t.id === tab ? ' on' : ''}`} aria-current={t.id === tab ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      {children}
    </Page>
  );
}

/** The models and adapters of the library, kept fresh. */
export function useLibrary() {
  const models = useQuery('models.list', {}, ['models.changed']);
  const adapters = useQuery('adapters.list', {}, ['adapters.changed']);
  return {
    models: (models.data ?? []).filter((m) => m.status !== 'missing'),
    adapters: adapters.data ?? [],
    loaded: models.data !== null && adapters.data !== null,
    error: models.error ?? adapters.error,
  };
}

/** Per adapter: does it fit the chosen model, and why not (from `adapters.compatibility`). */
export type Compatibility = ReadonlyMap<number, { ok: boolean; reason: string | null }>;

/**
 * The library's verdicts for `model` (tensor names, shapes and types checked in the main process, cached there),
 * asked again when the model or the library changes; null until the first answer.
 */
export function useCompatibility(model: ModelEntry | null | undefined): Compatibility | null {
  const modelId = model?.id ?? null;
  const [state, setState] = useState<{ modelId: number; map: Compatibility } | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const offs = [client.on('adapters.changed', () => setTick((t) => t + 1)), client.on('models.changed', () => setTick((t) => t + 1))];
    return () => offs.forEach((off) => off());
  }, []);
  useEffect(() => {
    if (modelId === null) return;
    let live = true;
    client.call('adapters.compatibility', { modelId }).then(
      (list) => live && setState({ modelId, map: new Map(list.map((c) => [c.id, { ok: c.ok, reason: c.reason }])) }),
      () => live && setState({ modelId, map: new Map() }), // cannot check (the model went away): the architecture decides
    );
    return () => {
      live = false;
    };
  }, [modelId, tick]);
  return state && state.modelId === modelId ? state.map : null;
}

/**
 * Adapters that can go on `model`: same architecture, file present, and (once known) checked to fit its tensors.
 */
export function adaptersFor(model: ModelEntry | undefined, adapters: AdapterEntry[], compat?: Compatibility | null): AdapterEntry[] {
  if (!model) return [];
  return adapters.filter((a) => whyNot(model, a, compat) === null);
}

/**
 * Why an adapter cannot go on `model` (null: it can), in words for a greyed entry. `compat` null: the check has not
 * answered yet, so nothing is offered until it has (an adapter that does not fit is never attachable, even briefly).
 */
export function whyNot(model: ModelEntry, a: AdapterEntry, compat?: Compatibility | null): string | null {
  if (a.status !== 'ok') return 'its file is missing';
  if (a.arch !== model.summary.architecture) return `made for ${a.arch} models, not ${model.summary.architecture}`;
  if (compat === null) return 'checking whether it fits…';
  const c = compat?.get(a.id);
  return c && !c.ok ? (c.reason ?? 'does not fit this model') : null;
}

/** Scales are typed as text (so "-", "0." and "1e" can be on the way to a number) and read at submit. */
export interface ScaleDraft {
  id: number;
  scale: string;
}

/**
 * Adapters chosen for one model: they belong to it, so when the form's model changes (the user picks another, or the
 * library changed under the form, e.g. a merge registered its model) the list starts empty instead of carrying them over.
 */
export function useAttachedFor(modelId: number | undefined): [ScaleDraft[], (v: ScaleDraft[]) => void] {
  const [state, setState] = useState<{ modelId: number | undefined; list: ScaleDraft[] }>({ modelId, list: [] });
  return [state.modelId === modelId ? state.list : [], (list) => setState({ modelId, list })];
}

export function parseScale(s: string): number | null {
  if (!s.trim()) return null;
  const v = Number(s);
  return Number.isFinite(v) && v >= -10 && v <= 10 ? v : null;
}

/** Adapters attached at scales: a row per adapter (scale, remove), and a picker of the compatible ones left. */
export function AttachedEditor({
  model,
  adapters,
  value,
  onChange,
  label,
}: {
  model: ModelEntry | undefined;
  adapters: AdapterEntry[];
  value: ScaleDraft[];
  onChange: (v: ScaleDraft[]) => void;
  /** Prefix of the controls' accessible names, e.g. "Variant 2". */
  label: string;
}) {
  const compat = useCompatibility(model);
  const usable = adaptersFor(model, adapters, compat);
  const left = usable.filter((a) => !value.some((v) => v.id === a.id));
  const greyed = model
    ? adapters.flatMap((a) => (value.some((v) => v.id === a.id) ? [] : [{ a, why: whyNot(model, a, compat) }])).filter((g) => g.why !== null)
    : [];
  return (
    <div className="attached">
      {value.map((v, i) => {
        const a = adapters.find((x) => x.id === v.id);
        const bad = parseScale(v.scale) === null;
        return (
          <span key={v.id} className="attached-item">
            <span className="mono">{a?.name ?? `adapter ${v.id}`}</span>
            <span className="muted">at</span>
            <input
              className={bad ? 'invalid' : undefined}
              size={5}
              value={v.scale}
              aria-label={`${label} scale of ${a?.name ?? v.id}`}
              title="scale: 0 = off, negative = subtract, above 1 = amplify (−10…10)"
              onChange={(e) => onChange(value.map((x, j) => (j === i ? { ...x, scale: e.target.value } : x)))}
            />
            <button className="link" aria-label={`${label} detach ${a?.name ?? v.id}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>
              ×
            </button>
          </span>
        );
      })}
      {(left.length > 0 || greyed.length > 0) && value.length < 8 && (
        <select
          aria-label={`${label} add adapter`}
          value=""
          onChange={(e) => e.target.value && onChange([...value, { id: Number(e.target.value), scale: '1' }])}
        >
          <option value="">+ adapter…</option>
          {left.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} (r{a.rank})
            </option>
          ))}
          {greyed.map(({ a, why }) => (
            <option key={a.id} value={a.id} disabled title={why!}>
              {a.name}: {why}
            </option>
          ))}
        </select>
      )}
      {model && usable.length === 0 && <span className="muted">no adapter for {model.summary.architecture} in the library</span>}
    </div>
  );
}

/** Where text to score comes from: a file, or a dataset version's split. */
export interface SourceDraft {
  kind: 'file' | 'dataset';
  textFile: string;
  dataset: string;
  split: Split;
}
export const emptySource: SourceDraft = { kind: 'file', textFile: '', dataset: '', split: 'all' };

export function sourceInput(s: SourceDraft): { textFile: string } | { dataset: string; split: SourceDraft['split'] } | null {
  if (s.kind === 'file') return s.textFile.trim() ? { textFile: s.textFile.trim() } : null;
  return s.dataset ? { dataset: s.dataset, split: s.split } : null;
}

export function SourcePicker({ value, onChange }: { value: SourceDraft; onChange: (v: SourceDraft) => void }) {
  const set = (patch: Partial<SourceDraft>) => onChange({ ...value, ...patch });
  return (
    <div className="row">
      <span className="segmented" role="radiogroup" aria-label="Text source">
        <button role="radio" aria-checked={value.kind === 'file'} className={value.kind === 'file' ? 'on' : ''} onClick={() => set({ kind: 'file' })}>
          Text file
        </button>
        <button role="radio" aria-checked={value.kind === 'dataset'} className={value.kind === 'dataset' ? 'on' : ''} onClick={() => set({ kind: 'dataset' })}>
          Dataset
        </button>
      </span>
      {value.kind === 'file' ? (
        <PathField
          value={value.textFile}
          onChange={(p) => set({ textFile: p })}
          label="Text file"
          placeholder="/path/to/text.txt"
          pick={{ kind: 'file', title: 'A text file to score', extensions: ['txt', 'md', 'raw'] }}
        />
      ) : (
        <>
          <DatasetSelect label="Dataset" value={value.dataset} onChange={(dataset) => set({ dataset })} />
          <SplitSelect value={value.split} onChange={(split) => set({ split })} />
        </>
      )}
    </div>
  );
}
