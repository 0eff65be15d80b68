import { useQuery } from '../../ui/useApi.js';

/** A dataset of the library by name, shown with its latest version and size; refreshed as runs (imports) finish. */
export function DatasetSelect({ label, value, onChange }: { label: string; value: string; onChange: (name: string) => void }) {
  const datasets = useQuery('datasets.list', {}, ['runs.changed']);
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">dataset…</option>
      {datasets.data?.map((d) => (
        <option key={d.id} value={d.name}>
          {d.name}@{d.latest.number} ({d.latest.exampleCount})
        </option>
      ))}
    </select>
  );
}
