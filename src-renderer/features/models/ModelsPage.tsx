import { useMemo, useState, type DragEvent } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { DataTable } from '../../ui/DataTable.js';
import { Empty, ErrorBanner, Page, StatusBadge } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { bytes, count } from '../../ui/format.js';
import { navigate } from '../../app/router.js';
import { desktop } from '../../client.js';
import { AddModelPanel } from './AddModelPanel.js';
import { ScanFolderPanel } from './ScanFolderPanel.js';

const columns: ColumnDef<ModelEntry, unknown>[] = [
  { header: 'Name', accessorKey: 'name', cell: (c) => <strong>{c.getValue<string>()}</strong> },
  { header: 'Arch', accessorFn: (m) => m.summary.architecture },
  { header: 'Params', accessorFn: (m) => m.summary.parameterCount, cell: (c) => count(c.getValue<number>()) },
  { header: 'Size', accessorKey: 'sizeBytes', cell: (c) => bytes(c.getValue<number>()) },
  { header: 'Type', accessorFn: (m) => m.summary.fileType },
  { header: 'Context', accessorFn: (m) => m.summary.contextLength ?? 0, cell: (c) => c.getValue<number>() || '—' },
  { header: 'Chat', accessorFn: (m) => (m.summary.hasChatTemplate ? 'yes' : 'no') },
  {
    header: 'Roles',
    accessorFn: (m) => m.roles.join(','),
    cell: (c) => (
      <span className="chips">
        {c.row.original.roles.map((r) => (
          <span key={r} className={`chip chip-${r}`}>
            {r}
          </span>
        ))}
      </span>
    ),
  },
  {
    header: 'Status',
    accessorKey: 'status',
    cell: (c) =>
      c.row.original.status === 'missing' ? (
        <span className="error-text" title={c.row.original.path}>
          file not found
        </span>
      ) : (
        <StatusBadge status={c.row.original.status} />
      ),
  },
];

export function ModelsPage() {
  const models = useQuery('models.list', {}, ['models.changed']);
  const [panel, setPanel] = useState<'add' | 'scan' | null>(null);
  const [droppedPath, setDroppedPath] = useState<string | null>(null);
  const [dropError, setDropError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const list = useMemo(() => models.data ?? [], [models.data]);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (!file) return;
    const path = desktop?.pathForFile(file) ?? '';
    if (!path) {
      setDropError(
        `${file.name}: a browser does not tell the page where a dropped file lives. Paste its path in "Add model" instead (or use the desktop app, where dropping works).`,
      );
      return;
    }
    setDropError(null);
    setDroppedPath(path);
    setPanel('add');
  };

  return (
    <Page
      title="Models"
      actions={
        <>
          <button onClick={() => setPanel(panel === 'add' ? null : 'add')}>Add model</button>
          <button className="secondary" onClick={() => setPanel(panel === 'scan' ? null : 'scan')}>
            Scan folder…
          </button>
        </>
      }
    >
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="models-dropzone"
      >
        {panel === 'add' && <AddModelPanel key={droppedPath ?? ''} initialPath={droppedPath} onClose={() => setPanel(null)} />}
        {panel === 'scan' && <ScanFolderPanel onClose={() => setPanel(null)} />}
        <ErrorBanner error={dropError ? { message: dropError } : null} onClose={() => setDropError(null)} />
        <ErrorBanner error={models.error} />
        {list.length > 0 ? (
          <DataTable data={list} columns={columns} onRowClick={(m) => navigate(`/models/${m.id}`)} rowTestId={(m) => `model-row-${m.id}`} />
        ) : (
          !models.loading && (
            <Empty>
              The library is empty. Add a GGUF model by its path, drop a <code>.gguf</code> file here, or scan a folder. Files stay where they are; the library
              only points at them.
            </Empty>
          )
        )}
        <p className="muted hint">Drop a .gguf file anywhere on this page to add it.</p>
      </div>
    </Page>
  );
}
