import { useState } from 'react';
import {
  IMPORT_CONTAINERS,
  JSON_FORMATS,
  type ColumnMapping,
  type ImportContainer,
  type ImportPreview,
  type JsonRecordFormat,
} from '../../../src-shared/domain/datasets.js';
import { ErrorBanner } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { PathField } from '../../ui/PathField.js';

/** File → detected format and the first records as they would be imported → import run. */
export function ImportPanel({ onClose, appendTo }: { onClose: () => void; appendTo?: string }) {
  const [path, setPath] = useState('');
  const [name, setName] = useState(appendTo ?? '');
  const [format, setFormat] = useState<JsonRecordFormat | 'auto'>('auto');
  const [container, setContainer] = useState<ImportContainer | 'auto'>('auto');
  const [mapping, setMapping] = useState<ColumnMapping | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const previewAction = useAction('datasets.previewImport');
  const importAction = useAction('datasets.import');

  const how = (m: ColumnMapping | null) => ({
    format,
    container,
    ...(m ? { mapping: m } : {}),
  });
  const runPreview = async (p = path, m = mapping) => {
    if (!p.trim()) return;
    const r = await previewAction.run({ path: p, ...how(m), limit: 10 });
    setPreview(r);
    if (r?.spec.mapping && !m) setMapping(r.spec.mapping);
    if (r && !name)
      setName(
        r.path
          .split(/[\\/]/)
          .pop()!
          .replace(/\.[a-z]+$/i, ''),
      );
  };
  const remap = (patch: Partial<ColumnMapping>) => {
    const next = { ...(mapping ?? { prompt: '' }), ...patch };
    for (const k of ['response', 'system'] as const) if (!next[k]) delete next[k];
    setMapping(next);
    if (next.prompt) void runPreview(path, next);
  };
  const start = async () => {
    const r = await importAction.run({
      path,
      name,
      ...how(preview?.spec.mapping ? mapping : null),
      append: appendTo !== undefined,
    });
    if (r) navigate(`/runs/${r.runId}`);
  };
  return (
    <div className="panel" data-testid="import-panel">
      <div className="row">
        <PathField
          value={path}
          onChange={setPath}
          onSubmit={(p) => void runPreview(p)}
          label="Dataset file path"
          placeholder="/path/to/data.jsonl"
          pick={{
            kind: 'file',
            title: 'Import a dataset',
            extensions: ['jsonl', 'json', 'csv', 'tsv', 'txt', 'parquet'],
          }}
        />
        <select value={container} onChange={(e) => setContainer(e.target.value as ImportContainer | 'auto')} aria-label="File type">
          <option value="auto">detect file type</option>
          {IMPORT_CONTAINERS.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        <select value={format} onChange={(e) => setFormat(e.target.value as JsonRecordFormat | 'auto')} aria-label="Format">
          <option value="auto">detect format</option>
          {JSON_FORMATS.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
        <button onClick={() => void runPreview()} disabled={!path.trim() || previewAction.pending}>
          Preview
        </button>
        <button className="link" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={previewAction.error} />
      {preview && (
        <div className="preview" data-testid="import-preview">
          <p>
            {preview.spec.container.toUpperCase()}
            {preview.spec.record && (
              <>
                {' '}
                · Format <b>{preview.spec.record}</b>
              </>
            )}{' '}
            · first {preview.linesRead} records: {preview.examples.length} examples, {preview.rejects.length} rejected
          </p>
          {preview.columns && !preview.spec.record && !preview.spec.mapping && <p className="muted">Choose the column that holds the prompt.</p>}
          {preview.examples.length === 0 && preview.rejects.length > 0 && (
            <p className="error-text" data-testid="preview-none-valid">
              None of the first {preview.linesRead} records can be imported ({preview.rejects[0]!.reason}). Check the format above: an import that finds no
              valid record is refused.
            </p>
          )}
          {preview.columns && !preview.spec.record && (
            <div className="row" data-testid="column-mapping">
              {(['prompt', 'response', 'system'] as const).map((k) => (
                <label key={k}>
                  {k}{' '}
                  <select aria-label={`${k} column`} value={mapping?.[k] ?? ''} onChange={(e) => remap({ [k]: e.target.value })}>
                    <option value="">{k === 'prompt' ? 'choose…' : 'none'}</option>
                    {preview.columns!.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                </label>
              ))}
            </div>
          )}
          <table className="table compact">
            <thead>
              <tr>
                <th>Prompt</th>
                <th>Reference answer</th>
              </tr>
            </thead>
            <tbody>
              {preview.examples.map((e, i) => (
                <tr key={i}>
                  <td>{e.messages.find((m) => m.role === 'user')?.content.slice(0, 160)}</td>
                  <td>{e.reference?.slice(0, 160) ?? <span className="muted">none</span>}</td>
                </tr>
              ))}
              {preview.rejects.map((r) => (
                <tr key={`r${r.line}`} className="rejected">
                  <td colSpan={2}>
                    <span className="error-text">
                      line {r.line}: {r.reason}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row">
            {appendTo === undefined && <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Dataset name" aria-label="Dataset name" />}
            <button onClick={() => void start()} disabled={!name.trim() || importAction.pending}>
              {appendTo === undefined ? 'Import' : `Add to ${appendTo}`}
            </button>
          </div>
          <ErrorBanner error={importAction.error} />
        </div>
      )}
    </div>
  );
}
