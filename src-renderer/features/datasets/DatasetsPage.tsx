import { useState } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import type { DatasetSummary } from '../../../src-shared/domain/datasets.js';
import { DataTable } from '../../ui/DataTable.js';
import { Empty, ErrorBanner, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { when } from '../../ui/format.js';
import { navigate } from '../../app/router.js';
import { ImportPanel } from './ImportPanel.js';

const columns: ColumnDef<DatasetSummary, unknown>[] = [
  {
    header: 'Name',
    accessorKey: 'name',
    cell: (c) => <strong>{c.getValue<string>()}</strong>,
  },
  { header: 'Version', accessorFn: (d) => d.latest.number },
  {
    header: 'Examples',
    accessorFn: (d) => d.latest.exampleCount,
    cell: (c) => c.getValue<number>().toLocaleString(),
  },
  { header: 'Last change', accessorFn: (d) => d.latest.message },
  {
    header: 'Created',
    accessorKey: 'createdAt',
    cell: (c) => when(c.getValue<string>()),
  },
];

export function DatasetsPage() {
  const datasets = useQuery('datasets.list', {}, ['runs.changed']);
  const [importing, setImporting] = useState(false);
  return (
    <Page title="Datasets" actions={<button onClick={() => setImporting(!importing)}>Import…</button>}>
      <p className="muted">
        Import JSONL or JSON (OpenAI chat, ShareGPT, Alpaca, prompt/completion), CSV or TSV with a column mapping, plain text (one prompt per line) or Parquet.
        Open a dataset to search, curate, dedupe, scan for PII, split, commit versions and export.
      </p>
      {importing && <ImportPanel onClose={() => setImporting(false)} />}
      <ErrorBanner error={datasets.error} />
      {datasets.data && datasets.data.length > 0 ? (
        <DataTable
          data={datasets.data}
          columns={columns}
          onRowClick={(d) => navigate(`/datasets/${encodeURIComponent(d.name)}`)}
          rowTestId={(d) => `dataset-row-${d.name}`}
        />
      ) : (
        !datasets.loading && <Empty>No datasets yet. Import a JSONL file to start.</Empty>
      )}
    </Page>
  );
}
