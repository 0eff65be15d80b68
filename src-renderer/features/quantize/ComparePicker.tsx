import { useEffect, useState } from 'react';
import type { RunSummary } from '../../../src-shared/domain/runs.js';
import { client } from '../../client.js';
import { navigate } from '../../app/router.js';
import { useQuery } from '../../ui/useApi.js';

/**
 * Another ladder run of the same source model to compare this one with (e.g. with and without an importance matrix):
 * picking one opens `#/quantize/compare/<this>/<other>`. Nothing when there is none.
 */
export function ComparePicker({ runId, modelId }: { runId: number; modelId: number }) {
  const runs = useQuery('runs.list', { kind: 'quantize.ladder', limit: 100 }, ['runs.changed']);
  const others = (runs.data ?? []).filter((r) => r.id !== runId && r.status !== 'queued' && r.status !== 'running');
  const ids = others.map((r) => r.id).join(',');
  const [same, setSame] = useState<RunSummary[]>([]);
  useEffect(() => {
    let live = true;
    const list = (runs.data ?? []).filter((r) => ids.split(',').includes(String(r.id)));
    // runs.list has no config: read each run's to keep those of the same source model
    void Promise.all(list.map((r) => client.call('runs.get', { id: r.id }).catch(() => null))).then((details) => {
      if (!live) return;
      setSame(list.filter((_, i) => (details[i]?.kind === 'quantize.ladder' ? details[i].config?.model.id === modelId : false)));
    });
    return () => {
      live = false;
    };
    // the ids say when the candidates change; runs.data changes identity on every refetch
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ids, modelId]);
  if (same.length === 0) return null;
  return (
    <select aria-label="Compare with" value="" onChange={(e) => e.target.value && navigate(`/quantize/compare/${runId}/${e.target.value}`)}>
      <option value="">compare with another ladder of this model…</option>
      {same.map((r) => (
        <option key={r.id} value={r.id}>
          #{r.id} {r.title}
        </option>
      ))}
    </select>
  );
}
