import { useState } from 'react';
import { messageText, type ExampleRow, type VersionDiffRow } from '../../../src-shared/domain/datasets.js';
import { Empty, ErrorBanner, Page } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';

// tool calls as name(arguments): an edited call shows in a diff
const text = (r: ExampleRow | null) => (r ? r.messages.map((m) => `${m.role}: ${messageText(m)}`).join('\n') : '');
const labels = (r: ExampleRow | null) => (r ? [r.split ?? '', ...r.tags.map((t) => `#${t}`), ...r.flags.map((f) => `⚑${f}`)].filter(Boolean).join(' ') : '');

/** What a relabel changed: the split (old → new), tags and flags added or removed. */
export function relabelChanges(before: ExampleRow, after: ExampleRow): string[] {
  const out: string[] = [];
  if (before.split !== after.split) out.push(`split ${before.split ?? 'none'} → ${after.split ?? 'none'}`);
  const diff = (a: string[], b: string[], mark: string) => [
    ...b.filter((x) => !a.includes(x)).map((x) => `+${mark}${x}`),
    ...a.filter((x) => !b.includes(x)).map((x) => `−${mark}${x}`),
  ];
  out.push(...diff(before.tags, after.tags, '#'), ...diff(before.flags, after.flags, '⚑'));
  return out;
}

/** Line-level difference of two texts: lines only in `a` / only in `b` are marked. */
function DiffText({ a, b }: { a: string; b: string }) {
  const la = a.split('\n');
  const lb = new Set(b.split('\n'));
  return (
    <pre className="diff-text">
      {la.map((l, i) => (
        <div key={i} className={lb.has(l) ? '' : 'diff-del'}>
          {l}
        </div>
      ))}
    </pre>
  );
}

const base = (name: string) => `#/datasets/${encodeURIComponent(name)}`;

/** Two versions side by side: counts of added/removed/changed/relabeled, and the differing examples. */
export function VersionDiffPage({ name, from, to }: { name: string; from: number; to: number }) {
  const [only, setOnly] = useState<VersionDiffRow['change'] | ''>('');
  const [offset, setOffset] = useState(0);
  const diff = useQuery('datasets.diff', { name, from, to, offset, limit: 50, ...(only ? { only } : {}) }, [], [only, offset]);
  const d = diff.data;
  return (
    <Page
      title={
        <>
          <a href="#/datasets" className="crumb">
            Datasets
          </a>{' '}
          / <a href={base(name)}>{name}</a> / {from} → {to}
        </>
      }
    >
      <ErrorBanner error={diff.error} />
      {d && (
        <>
          <div className="row" data-testid="diff-counts">
            {(['added', 'removed', 'changed', 'relabeled'] as const).map((k) => (
              <button key={k} className={only === k ? '' : 'secondary'} onClick={() => (setOffset(0), setOnly(only === k ? '' : k))}>
                {d[k].toLocaleString()} {k}
              </button>
            ))}
          </div>
          {d.rows.length === 0 ? (
            <Empty>No differences.</Empty>
          ) : (
            <table className="table diff-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Change</th>
                  <th>Version {from}</th>
                  <th>Version {to}</th>
                </tr>
              </thead>
              <tbody>
                {d.rows.map((r) =>
                  r.change === 'relabeled' && r.before && r.after ? (
                    // same text on both sides: say what changed once, not the whole example twice
                    <tr key={r.position} className="diff-relabeled" data-testid="diff-relabeled">
                      <td>{r.position}</td>
                      <td>{r.change}</td>
                      <td colSpan={2}>
                        <div className="relabel">
                          {relabelChanges(r.before, r.after).map((c) => (
                            <span key={c} className={`chip ${c.startsWith('−') ? 'chip-removed' : c.startsWith('+') ? 'chip-added' : 'chip-split'}`}>
                              {c}
                            </span>
                          ))}
                        </div>
                        <div className="muted ellipsis" title={text(r.after)}>
                          {text(r.after).split('\n')[0]}
                        </div>
                      </td>
                    </tr>
                  ) : (
                  <tr key={r.position} className={`diff-${r.change}`}>
                    <td>{r.position}</td>
                    <td>{r.change}</td>
                    <td>
                      <DiffText a={text(r.before)} b={text(r.after)} />
                      <span className="muted">{labels(r.before)}</span>
                    </td>
                    <td>
                      <DiffText a={text(r.after)} b={text(r.before)} />
                      <span className="muted">{labels(r.after)}</span>
                    </td>
                  </tr>
                  ),
                )}
              </tbody>
            </table>
          )}
          <div className="row">
            <button className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 50))}>
              Previous
            </button>
            <button className="secondary" disabled={d.rows.length < 50} onClick={() => setOffset(offset + 50)}>
              Next
            </button>
          </div>
        </>
      )}
    </Page>
  );
}

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
      title={
        <>
          <a href="#/datasets" className="crumb">
            Datasets
          </a>{' '}
          / <a href={base(name)}>{name}</a> / duplicates
        </>
      }
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
