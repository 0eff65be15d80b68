import type { AdapterEntry, AttachedAdapter } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { useQuery } from '../../ui/useApi.js';
import { adaptersFor, whyNot, type Compatibility } from './parts.js';

/** Per adapter of the library: attached or not, and its scale (kept while the model changes). */
export type AttachState = Record<number, { on: boolean; scale: number }>;

/** What to send with a generation: the attached adapters that fit `model`'s architecture. */
export function attachedFor(model: ModelEntry | null, adapters: AdapterEntry[], state: AttachState, compat: Compatibility | null): AttachedAdapter[] {
  return adaptersFor(model ?? undefined, adapters, compat)
    .filter((a) => state[a.id]?.on)
    .map((a) => ({ id: a.id, scale: state[a.id]!.scale }));
}

export function useAdapterList(): AdapterEntry[] {
  return useQuery('adapters.list', {}, ['adapters.changed']).data ?? [];
}

/**
 * The Playground's adapters: those that fit the model, each with a checkbox and a scale (−2…2); the others greyed with
 * the reason. Changing them does not reload the model; the next generation's context gets them.
 */
export function AttachPanel({
  model,
  adapters,
  compat,
  value,
  onChange,
  disabled,
}: {
  model: ModelEntry | null;
  adapters: AdapterEntry[];
  compat: Compatibility | null;
  value: AttachState;
  onChange: (v: AttachState) => void;
  disabled: boolean;
}) {
  const usable = adaptersFor(model ?? undefined, adapters, compat);
  const greyed = model ? adapters.map((a) => ({ a, why: whyNot(model, a, compat) })).filter((g) => g.why !== null) : [];
  const set = (id: number, patch: Partial<{ on: boolean; scale: number }>) => onChange({ ...value, [id]: { on: false, scale: 1, ...value[id], ...patch } });
  return (
    <fieldset className="sampling attach-panel" disabled={disabled} data-testid="playground-adapters">
      <legend>Adapters</legend>
      {usable.length === 0 ? (
        <span className="muted">
          No adapter in the library fits {model ? model.name : 'this model'}. <a href="#/adapters">Import one</a>.
        </span>
      ) : (
        usable.map((a) => {
          const s = value[a.id] ?? { on: false, scale: 1 };
          return (
            <div key={a.id} className={`slider attach-row${s.on ? ' on' : ''}`}>
              <label className="attach-name">
                <input type="checkbox" checked={s.on} aria-label={`Attach ${a.name}`} onChange={(e) => set(a.id, { on: e.target.checked })} />{' '}
                <span className="mono">{a.name}</span>{' '}
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
      {greyed.map(({ a, why }) => (
        <div key={a.id} className="attach-row unusable" data-testid={`unusable-${a.name}`} title={why!}>
          <label className="attach-name">
            <input type="checkbox" checked={false} disabled aria-label={`Attach ${a.name}`} /> <span className="mono">{a.name}</span>
          </label>
          <span className="muted reason">{why}</span>
        </div>
      ))}
      {usable.length > 0 && <span className="muted hint">Changing adapters keeps the model loaded: only its context is rebuilt.</span>}
    </fieldset>
  );
}
