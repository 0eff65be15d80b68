import { useState } from 'react';
import { ErrorBanner, ProgressBar, StatusBadge } from '../../ui/components.js';
import { ModelSelect } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { useRunControls } from '../../ui/useRunControls.js';

/** A watch run started from this page: its status, what it waits for, and the adapter once imported. */
function WatchRun({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const adapter = r?.lineage.find((l) => l.direction === 'output' && l.kind === 'adapter');
  return (
    <div data-testid="watch-run">
      <ErrorBanner error={run.error ?? controls.error} />
      {r && (
        <>
          <div className="row">
            <StatusBadge status={r.status} /> <span className="grow">{r.title}</span>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </div>
          <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />
          {r.error && <p className="error-text">{r.error}</p>}
          {adapter && (
            <p>
              Imported <a href="#/adapters">{adapter.label}</a>: compare it with its base, evaluate it against the teacher, or merge and quantize it from the
              Adapters room.
            </p>
          )}
        </>
      )}
    </div>
  );
}

/**
 * The way back: the trainer's output folder (the export's adapter folder by default) is watched until a complete PEFT
 * adapter is in it; it is then imported onto the chosen base and linked to this export.
 */
export function WatchPanel({ adapterFolder }: { adapterFolder: string }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const start = useAction('adapters.watch');
  const [dir, setDir] = useState(adapterFolder);
  const [baseId, setBaseId] = useState<number | null>(null);
  const [runId, setRunId] = useState<number | null>(null);
  const go = async () => {
    if (baseId === null || !dir.trim()) return;
    const r = await start.run({ dir: dir.trim(), baseModelId: baseId });
    if (r) setRunId(r.runId);
  };
  return (
    <div className="card" data-testid="watch-form">
      <h3>Bring the adapter back</h3>
      <p className="muted">
        Copy the trainer&apos;s output folder back here (or train on this machine), and watch it: the adapter is imported when the trainer has finished writing
        it, converted to a GGUF LoRA for the student and linked to this export. The CLI does the same:{' '}
        <code>distillery adapters watch &lt;folder&gt; --base &lt;model&gt;</code>.
      </p>
      <div className="row">
        <PathField
          value={dir}
          onChange={setDir}
          label="Trainer output folder"
          placeholder="the trainer's output folder"
          pick={{ kind: 'folder', title: 'Trainer output folder' }}
        />
        <ModelSelect models={models.data ?? []} value={baseId} onChange={setBaseId} label="Base model" />
        <button onClick={() => void go()} disabled={baseId === null || !dir.trim() || start.pending || runId !== null}>
          Watch for the adapter
        </button>
      </div>
      <ErrorBanner error={start.error} onClose={start.clearError} />
      {runId !== null && <WatchRun runId={runId} />}
    </div>
  );
}
