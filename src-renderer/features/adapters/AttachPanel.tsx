import type { AdapterEntry, AttachedAdapter } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { useQuery } from '../../ui/useApi.js';
import { adaptersFor } from './parts.js';

/** Per adapter of the library: attached or not, and its scale (kept while the model changes). */
export type AttachState = Record<number, { on: boolean; scale: number }>;

/** What to send with a generation: the attached adapters that fit `model`'s architecture. */
export function attachedFor(model: ModelEntry | null, adapters: AdapterEntry[], state: AttachState): AttachedAdapter[] {
  return adaptersFor(model ?? undefined, adapters)
    .filter((a) => state[a.id]?.on)
    .map((a) => ({ id: a.id, scale: state[a.id]!.scale }));
}

export function useAdapterList(): AdapterEntry[] {
  return useQuery('adapters.list', {}, ['adapters.changed']).data ?? [];
}

/**
 * The Playground's adapters: those of the model's architecture, each with a checkbox and a scale (−2…2). Changing
 * them does not reload the model; the next generation's context gets them.
 */
export function AttachPanel({
  model,
  adapters,
  value,
  onChange,
  disabled,
}: {
  model: ModelEntry | null;
  adapters: AdapterEntry[];
  value: AttachState;
  onChange: (v: AttachState) => void;
  disabled: boolean;
}) {
  const usable = adaptersFor(model ?? undefined, adapters);
  const set = (id: number, patch: Partial<{ on: boolean; scale: number }>) => onChange({ ...value, [id]: { on: false, scale: 1, ...value[id], ...patch } });
  return (
    <fieldset className="sampling attach-panel" disabled={disabled} data-testid="playground-adapters">
      <legend>Adapters</legend>
      {usable.length === 0 ? (
        <span className="muted">
          No adapter for {model?.summary.architecture ?? 'this model'} in the library. <a href="#/adapters">Import one</a>.
        </span>
      ) : (
        usable.map((a) => {
          const s = value[a.id] ?? { on: false, scale: 1 };
          return (
            <div key={a.id} className={`slider attach-row${s.on ? ' on' : ''}`}>
              <label className="attach-name">
                <input type="checkbox" checked={s.on} aria-label={`Attach ${a.name}`} onChange={(e) => set(a.id, { on: e.target.checked })} /> <span className="mono">{a.name}</span>{' '}
                <span className="muted" title={a.base ? `checked against ${a.base.name}` : 'not checked against a model yet'}>
                  r{a.rank} · {a.targets.join(', ')}
                  {a.base && a.base.modelId === model?.id ? ' · ✓' : ''}
                </span>
              </label>
              <input
                type="range"
                min={-2}
                max={2}
                step={0.05}
                value={s.scale}
                aria-label={`Scale slider of ${a.name}`}
                onChange={(e) => set(a.id, { scale: Number(e.target.value) })}
              />
              <input
                type="number"
                min={-2}
                max={2}
                step={0.05}
                value={s.scale}
                aria-label={`Scale of ${a.name}`}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  if (e.target.value !== '' && Number.isFinite(v)) set(a.id, { scale: Math.max(-2, Math.min(2, v)) });
                }}
              />
            </div>
          );
        })
      )}
      {usable.length > 0 && <span className="muted hint">Changing adapters keeps the model loaded: only its context is rebuilt.</span>}
    </fieldset>
  );
}
