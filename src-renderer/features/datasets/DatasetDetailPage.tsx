import { useState } from 'react';
import type { ExampleRow } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { when } from '../../ui/format.js';
import { ExamplesTable } from './ExamplesTable.js';

function Conversation({ row, onClose }: { row: ExampleRow; onClose: () => void }) {
  return (
    <div className="card conversation" data-testid="conversation">
      <div className="row">
        <h2>Line {row.position}</h2>
        <button className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {row.messages.map((m, i) => (
        <div key={i} className={`message message-${m.role}`}>
          <div className="message-role">{m.role}</div>
          <div className="message-content">{m.content}</div>
        </div>
      ))}
    </div>
  );
}

export function DatasetDetailPage({ name, version }: { name: string; version: number | null }) {
  const detail = useQuery('datasets.get', version === null ? { name, previewLimit: 0 } : { name, version, previewLimit: 0 }, [], [name, version]);
  const [open, setOpen] = useState<ExampleRow | null>(null);
  const d = detail.data;
  return (
    <Page
      title={
        <>
          <a href="#/datasets" className="crumb">Datasets</a> / {name}
          {d ? `@${d.version.number}` : ''}
        </>
      }
    >
      <ErrorBanner error={detail.error} />
      {d && (
        <>
          <p className="muted">
            {d.version.exampleCount.toLocaleString()} examples · {d.version.message} · {when(d.version.createdAt)}
            {d.version.runId !== null && (
              <>
                {' '}· made by <a href={`#/runs/${d.version.runId}`}>run {d.version.runId}</a>
              </>
            )}
          </p>
          <div className="columns">
            <ExamplesTable name={name} version={d.version.number} total={d.version.exampleCount} onOpen={setOpen} />
            {open && <Conversation row={open} onClose={() => setOpen(null)} />}
          </div>
        </>
      )}
    </Page>
  );
}
