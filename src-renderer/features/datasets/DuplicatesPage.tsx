import { useState } from 'react';
import { Empty, ErrorBanner, Page } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { exampleText as text } from './exampleText.js';
import { DatasetCrumbs } from './DatasetCrumbs.js';

/** Near-duplicate clusters of the working copy (or latest version): choose which example to keep, then resolve. */
export function DuplicatesPage({ name }: { name: string }) {
  const [offset, setOffset] = useState(0);
  const [keep, setKeep] = useState<Map<number, number>>(() => new Map());
  const clusters = useQuery('datasets.clusters', { name, offset, limit: 20 }, [], [offset]);
  const resolve = useAction('datasets.resolveDuplicates');
  const [done, setDone] = useState<string | null>(null);
  const c = clusters.data;
  return (
    <Page
      title={<DatasetCrumbs name={name}>duplicates</DatasetCrumbs>}
      actions={
        <button
          onClick={() =>
            void resolve
              .run({
                name,
                keep: [...keep.entries()].map(([cluster, position]) => ({
                  cluster,
                  position,
                })),
              })
              .then((r) => {
                if (!r) return;
                setDone(`${r.label}: ${r.affected} removed`);
                clusters.refetch();
              })
          }
          disabled={!c || c.total === 0}
        >
          Keep one per cluster
        </button>
      }
    >
      <ErrorBanner error={clusters.error ?? resolve.error} />
      {done && <p data-testid="resolve-result">{done} (in the working copy; commit it on the dataset page)</p>}
      {c && c.total === 0 && <Empty>No duplicate clusters. Run “Find” in the Duplicates tool of the dataset page.</Empty>}
      {c && c.total > 0 && <p className="muted">{c.total.toLocaleString()} clusters</p>}
      {c?.clusters.map((k) => (
        <div key={k.cluster} className="card cluster" data-testid="cluster">
          <div className="muted">
            Cluster {k.cluster} · {k.members.length} examples · similarity ≥ {k.similarity.toFixed(2)}
          </div>
          {k.members.map((m) => (
            <label key={m.position} className="cluster-member">
              <input
                type="radio"
                name={`keep-${k.cluster}`}
                checked={(keep.get(k.cluster) ?? k.members[0]!.position) === m.position}
                onChange={() => setKeep(new Map(keep).set(k.cluster, m.position))}
              />
              <span className="muted">#{m.position}</span> <span className="ellipsis">{text(m).slice(0, 300)}</span>
            </label>
          ))}
        </div>
      ))}
      {c && c.total > 20 && (
        <div className="row">
          <button className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 20))}>
            Previous
          </button>
          <button className="secondary" disabled={offset + 20 >= c.total} onClick={() => setOffset(offset + 20)}>
            Next
          </button>
        </div>
      )}
    </Page>
  );
}
