import { useState } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import { RUN_STATUSES, type RunStatus, type RunSummary } from '../../../src-shared/domain/runs.js';
import { DataTable } from '../../ui/DataTable.js';
import { Empty, ErrorBanner, Page, ProgressBar, StatusBadge } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { duration, when } from '../../ui/format.js';
import { navigate } from '../../app/router.js';

const columns: ColumnDef<RunSummary, unknown>[] = [
  { header: '#', accessorKey: 'id', size: 60 },
  { header: 'Kind', accessorKey: 'kind', size: 150 },
  { header: 'Title', accessorKey: 'title' },
  { header: 'Status', accessorKey: 'status', cell: (c) => <StatusBadge status={c.row.original.status} />, size: 110 },
  {
    header: 'Progress',
    id: 'progress',
    enableSorting: false,
    size: 220,
    cell: (c) => {
      const r = c.row.original;
      return (
        <ProgressBar
          done={r.progress.done}
          total={r.progress.total}
          label={r.progress.total ? `${r.progress.done} / ${r.progress.total}` : r.progress.message}
        />
      );
    },
  },
  { header: 'Created', accessorKey: 'createdAt', cell: (c) => when(c.getValue<string>()), size: 170 },
  { header: 'Duration', id: 'duration', enableSorting: false, cell: (c) => duration(c.row.original.startedAt, c.row.original.endedAt), size: 110 },
];

export function RunsPage() {
  const [status, setStatus] = useState<RunStatus | ''>('');
  const runs = useQuery('runs.list', status ? { status } : {}, ['runs.changed'], [status]);
  return (
    <Page
      title="Runs"
      actions={
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')} aria-label="Filter by status">
            <option value="">all</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <p className="muted">Every long operation is a run, kept with its configuration, log, metrics and the files and models it read and made.</p>
      <ErrorBanner error={runs.error} />
      {runs.data && runs.data.length > 0 ? (
        <DataTable data={runs.data} columns={columns} onRowClick={(r) => navigate(`/runs/${r.id}`)} rowTestId={(r) => `run-row-${r.id}`} />
      ) : (
        !runs.loading && <Empty>No runs{status ? ` with status ${status}` : ''} yet. Scanning a folder or benchmarking a model starts one.</Empty>
      )}
    </Page>
  );
}
