import { useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';

/**
 * A saved API key for an OpenAI-compatible server, by name, or none; "add an API key…" types a new one once into a
 * password field and saves it encrypted (runs refer to it by name). Used by the Distill teacher picker and Evaluate's
 * server variants.
 */
export function ApiKeyField({ label, value, onChange }: { label: string; value: string; onChange(name: string): void }) {
  const secrets = useQuery('secrets.list', {}, []);
  const save = useAction('secrets.set');
  const [adding, setAdding] = useState<{ name: string; value: string } | null>(null);
  return (
    <>
      <select
        aria-label={`${label} API key`}
        value={value}
        onChange={(e) => (e.target.value === '+' ? setAdding({ name: '', value: '' }) : onChange(e.target.value))}
      >
        <option value="">no API key</option>
        {secrets.data?.secrets.map((k) => (
          <option key={k.name} value={k.name}>
            key: {k.name}
          </option>
        ))}
        <option value="+">add an API key…</option>
      </select>
      {adding && (
        // a line of its own under the row the select is in
        <div className="row" data-testid="add-api-key" style={{ flexBasis: '100%' }}>
          <input aria-label="Key name" size={12} placeholder="name" value={adding.name} onChange={(e) => setAdding({ ...adding, name: e.target.value })} />
          <input
            aria-label="API key"
            type="password"
            autoComplete="off"
            size={28}
            placeholder="sk-…"
            value={adding.value}
            onChange={(e) => setAdding({ ...adding, value: e.target.value })}
          />
          <button
            disabled={!adding.name.trim() || !adding.value || save.pending}
            onClick={() =>
              void save.run({ name: adding.name.trim(), value: adding.value }).then((r) => {
                if (!r) return;
                setAdding(null);
                secrets.refetch();
                onChange(r.name);
              })
            }
          >
            Save key
          </button>
          <button className="secondary" onClick={() => setAdding(null)}>
            Cancel
          </button>
          <span className="muted">encrypted with {secrets.data?.backend ?? '…'}; never shown again</span>
        </div>
      )}
      <ErrorBanner error={save.error} onClose={save.clearError} />
    </>
  );
}
