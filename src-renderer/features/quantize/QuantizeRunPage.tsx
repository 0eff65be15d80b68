import { humanBytes } from '../../../src-shared/format.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { useQuery } from '../../ui/useApi.js';

/** A ladder run: its progress, then each type's file as it is committed, with its size drawn against the source's. */
export function QuantizeRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const files = useQuery('quantize.files', { runId }, ['runs.changed'], [runId]);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const config = r?.kind === 'quantize.ladder' ? r.config : null;
  const sourceBytes = r?.metrics.find((m) => m.name === 'source_bytes')?.value ?? null;
  const made = files.data ?? [];
  const rows = (config?.types ?? []).map((t) => ({ type: t.name, file: made.find((f) => f.type === t.name) ?? null }));
  return (
    <Page
      title={<RunCrumbs href="#/quantize" label="Quantize" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? files.error ?? controls.error} />
      {r && (
        <RunProgress run={r} testId="quantize-progress">
          {config && (
            <p className="muted">
              from <a href={`#/models/${config.model.id}`}>{config.model.name}</a>
              {sourceBytes !== null && ` (${humanBytes(sourceBytes)})`}
              {config.imatrix
                ? ` · importance matrix ${config.imatrix.file.split(/[\\/]/).pop()} (${config.imatrix.entries} weights, ${config.imatrix.chunks} chunks)`
                : ' · no importance matrix'}
              {config.pure ? ' · pure' : ''} · into <code>{config.outDir}</code>
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </RunProgress>
      )}
      <div className="card">
        <h2>Files</h2>
        <table className="table compact" data-testid="quantize-files">
          <thead>
            <tr>
              <th>Type</th>
              <th>Size</th>
              <th aria-label="size against the source" />
              <th>Bits/weight</th>
              <th>× smaller</th>
              <th>Time</th>
              <th>Model</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ type, file }) => (
              <tr key={type} className={file ? '' : 'pending'}>
                <td className="mono">{type}</td>
                <td className="mono">{file ? humanBytes(file.bytes) : <span className="muted">…</span>}</td>
                <td style={{ width: '30%' }}>
                  {file && sourceBytes ? (
                    <div className="size-bar" title={`${((100 * file.bytes) / sourceBytes).toFixed(1)}% of the source`}>
                      <div style={{ width: `${Math.min(100, (100 * file.bytes) / sourceBytes)}%` }} />
                    </div>
                  ) : null}
                </td>
                <td className="mono">{file ? file.bpw.toFixed(2) : ''}</td>
                <td className="mono">{file && sourceBytes ? `${(sourceBytes / file.bytes).toFixed(2)}×` : ''}</td>
                <td className="mono">{file ? `${file.seconds.toFixed(1)} s` : ''}</td>
                <td>{file ? <a href={`#/models/${file.modelId}`}>{file.file.split(/[\\/]/).pop()}</a> : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Page>
  );
}
