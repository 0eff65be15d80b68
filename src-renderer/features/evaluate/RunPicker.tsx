import { navigate } from '../../app/router.js';
import { useQuery } from '../../ui/useApi.js';

/** Another finished evaluation run to compare this one with: picking one opens `#/evaluate/compare/<this>/<other>`. */
export function RunPicker({ runId }: { runId: number }) {
  const runs = useQuery('runs.list', { kind: 'evaluate.run', limit: 100 }, ['runs.changed']);
  const others = (runs.data ?? []).filter((r) => r.id !== runId && r.status === 'succeeded');
  if (others.length === 0) return null;
  return (
    <select aria-label="Compare with" value="" onChange={(e) => e.target.value && navigate(`/evaluate/compare/${runId}/${e.target.value}`)}>
      <option value="">compare with another evaluation…</option>
      {others.map((r) => (
        <option key={r.id} value={r.id}>
          #{r.id} {r.title}
        </option>
      ))}
    </select>
  );
}
