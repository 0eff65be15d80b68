import { useCallback, useMemo, useState } from 'react';
import type { ExampleRow } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { when } from '../../ui/format.js';
import { ExamplesTable, type ExamplesFilter } from './ExamplesTable.js';

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
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [reference, setReference] = useState<'any' | 'yes' | 'no'>('any');
  const [matching, setMatching] = useState<number | null>(null);
  const filter = useMemo<ExamplesFilter>(
    () => ({ search: applied, hasReference: reference === 'any' ? undefined : reference === 'yes' }),
    [applied, reference],
  );
  const onTotal = useCallback((n: number) => setMatching(n), []);
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
          <div className="row">
            <input
              className="grow"
              placeholder="Search words (all must appear)…"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              onKeyDown={(e) => e.key === 'Enter' && setApplied(search)}
              aria-label="Search examples"
            />
            <button className="secondary" onClick={() => setApplied(search)}>
              Search
            </button>
            <label>
              Reference answer{' '}
              <select value={reference} onChange={(e) => setReference(e.target.value as 'any' | 'yes' | 'no')} aria-label="Reference answer">
                <option value="any">any</option>
                <option value="yes">has one</option>
                <option value="no">missing</option>
              </select>
            </label>
            {matching !== null && (filter.search || filter.hasReference !== undefined) && (
              <span className="muted" data-testid="matching-count">
                {matching.toLocaleString()} matching
              </span>
            )}
          </div>
          <div className="columns">
            <ExamplesTable key={`${filter.search}|${reference}`} name={name} version={d.version.number} filter={filter} onOpen={setOpen} onTotal={onTotal} />
            {open && <Conversation row={open} onClose={() => setOpen(null)} />}
          </div>
        </>
      )}
    </Page>
  );
}
