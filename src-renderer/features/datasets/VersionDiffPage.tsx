import { useState } from 'react';
import type { ExampleRow, VersionDiffRow } from '../../../src-shared/domain/datasets.js';
import { Empty, ErrorBanner, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { exampleText as text } from './exampleText.js';
import { DatasetCrumbs } from './DatasetCrumbs.js';

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

/** Two versions side by side: counts of added/removed/changed/relabeled, and the differing examples. */
export function VersionDiffPage({ name, from, to }: { name: string; from: number; to: number }) {
  const [only, setOnly] = useState<VersionDiffRow['change'] | ''>('');
  const [offset, setOffset] = useState(0);
  const diff = useQuery('datasets.diff', { name, from, to, offset, limit: 50, ...(only ? { only } : {}) }, [], [only, offset]);
  const d = diff.data;
  return (
    <Page
      title={
        <DatasetCrumbs name={name}>
          {from} → {to}
        </DatasetCrumbs>
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
