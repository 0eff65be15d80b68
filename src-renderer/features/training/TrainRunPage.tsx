import { humanBytes } from '../../../src-shared/format.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useQuery } from '../../ui/useApi.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { TRAINER_LABEL } from './TrainPage.js';
import { WatchPanel } from './WatchPanel.js';

/** `outputs/adapter` under the folder, with the folder's own separator. */
const joinFolder = (dir: string, rel: string) => {
  const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  return `${dir.replace(/[\\/]+$/, '')}${sep}${rel.split('/').join(sep)}`;
};

/**
 * A training export: its progress; once written, the folder's files (counts, sizes, checksums from the manifest), the one
 * command to run there, and where the adapter will appear.
 */
export function TrainRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  const done = r?.status === 'succeeded';
  const manifest = useQuery('training.manifest', done ? { runId } : null, ['runs.changed'], [runId, done]);
  const controls = useRunControls(runId, r?.status);
  const config = r?.kind === 'training.export' ? r.config : null;
  const m = done ? manifest.data : null;
  return (
    <Page
      title={<RunCrumbs href="#/train" label="Train" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? controls.error ?? (done ? manifest.error : null)} />
      {r && (
        <RunProgress run={r} testId="training-progress">
          {config && (
            <p className="muted">
              <a href={`#/datasets/${encodeURIComponent(config.dataset)}@${config.versionNumber}`}>
                {config.dataset}@{config.versionNumber}
              </a>{' '}
              for {TRAINER_LABEL[config.trainer]} · student <code>{config.studentHfId}</code> · LoRA r{config.recipe.loraRank} α{config.recipe.loraAlpha} ·{' '}
              {config.recipe.epochs} epoch{config.recipe.epochs === 1 ? '' : 's'} at {config.recipe.learningRate}
              {config.kd ? ` · KD soft labels in ${config.kd.name}'s vocabulary` : ''} · into <code>{config.outDir}</code>
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </RunProgress>
      )}
      {m && (
        <>
          <div className="card" data-testid="training-command">
            <h3>Train</h3>
            <p className="muted">On the training machine, in the folder (its README says what it needs):</p>
            <pre className="mono">
              cd {config?.outDir}
              {'\n'}
              {m.command}
            </pre>
            <p className="muted">
              The adapter will be written to <code>{m.adapterDir}</code> in the folder. {m.counts.train} training example{m.counts.train === 1 ? '' : 's'}
              {m.counts.validation ? `, ${m.counts.validation} for validation` : ''}
              {m.counts.kd !== null ? `, ${m.counts.kd} with soft labels` : ''}.
            </p>
          </div>
          {config && <WatchPanel adapterFolder={joinFolder(config.outDir, m.adapterDir)} />}
          <h2>Files</h2>
          <table className="table train-files" data-testid="training-files">
            <thead>
              <tr>
                <th>file</th>
                <th>records</th>
                <th>size</th>
                <th>sha256</th>
              </tr>
            </thead>
            <tbody>
              {m.files.map((f) => (
                <tr key={f.path}>
                  <td className="mono">{f.path}</td>
                  <td>{f.records ?? ''}</td>
                  <td>{humanBytes(f.bytes)}</td>
                  <td className="mono" title={f.sha256}>
                    {f.sha256.slice(0, 12)}…
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Page>
  );
}
