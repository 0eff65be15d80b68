import type { RunSummary } from '../../src-shared/domain/runs.js';
import type { JobKindName } from '../../src-shared/contract/jobs.js';
import { navigate } from '../app/router.js';
import { Empty, ProgressBar, StatusBadge } from './components.js';
import { when } from './format.js';
import { useQuery } from './useApi.js';

/** The runs of one kind, newest first, each opening `href(run)`. */
export function RunList({ kind, href, empty }: { kind: JobKindName; href: (r: RunSummary) => string; empty: string }) {
  const runs = useQuery('runs.list', { kind, limit: 50 }, ['runs.changed']);
  if (!runs.data) return null;
  if (runs.data.length === 0) return <Empty>{empty}</Empty>;
  return (
    <table className="table" data-testid={`runs-${kind}`}>
      <tbody>
        {runs.data.map((r) => (
          <tr key={r.id} className="clickable" onClick={() => navigate(href(r).replace(/^#/, ''))}>
            <td style={{ width: 110 }}>
              <StatusBadge status={r.status} />
            </td>
            <td>
              <a href={href(r)} onClick={(e) => e.stopPropagation()}>
                #{r.id}
              </a>{' '}
              {r.title}
            </td>
            <td style={{ width: 300 }}>
              <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />
            </td>
            <td className="muted" style={{ width: 120 }}>
              {when(r.createdAt)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
