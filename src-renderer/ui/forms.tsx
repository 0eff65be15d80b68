import type { ModelEntry } from '../../src-shared/domain/models.js';

/** A dataset split to read, or all examples. */
export type Split = 'all' | 'train' | 'validation' | 'test';

/** A number typed in a form, or null when it is not one (empty, or out of range). */
export function parseNumber(s: string, { min = -Infinity, max = Infinity, int = false } = {}): number | null {
  if (!s.trim()) return null;
  const v = Number(s);
  if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) return null;
  return v;
}

/** The library's models, each with its architecture and file type. */
export function ModelSelect({
  models,
  value,
  onChange,
  label = 'Model',
}: {
  models: ModelEntry[];
  value: number | null;
  onChange: (id: number) => void;
  label?: string;
}) {
  return (
    <select aria-label={label} value={value ?? ''} onChange={(e) => onChange(Number(e.target.value))}>
      {value === null && <option value="">model…</option>}
      {models.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name} ({m.summary.architecture}, {m.summary.fileType})
        </option>
      ))}
    </select>
  );
}

/** A split, or all examples. */
export function SplitSelect({ value, onChange, label = 'Split' }: { value: Split; onChange: (v: Split) => void; label?: string }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Split)}>
      <option value="all">all examples</option>
      <option value="train">train</option>
      <option value="validation">validation</option>
      <option value="test">test</option>
    </select>
  );
}
