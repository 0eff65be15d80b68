import { ProgressBar, StatusBadge } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { PerplexityWarnings } from './PerplexityNotes.js';

/** The run just started: its progress, a link to its page, and what it made (a merged model). */
export function StartedRun({ runId, vocabSize }: { runId: number; vocabSize?: (modelId: number) => number | null }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const r = run.data;
  if (!r) return null;
  const made = r.lineage.find((l) => l.direction === 'output' && l.kind === 'model');
  const ppl = r.metrics.find((m) => m.name === 'perplexity' && m.step === null);
  const stderr = r.metrics.find((m) => m.name === 'perplexity_stderr');
  const chunks = r.metrics.find((m) => m.name === 'chunks')?.value ?? null;
  // a perplexity run or a merge: both name their variant
  const config = r.kind === 'adapters.perplexity' || r.kind === 'adapters.merge' ? r.config : null;
  const contextSize = r.kind === 'adapters.perplexity' ? (r.config?.contextSize ?? null) : null;
  return (
    <div className="started-run" data-testid="started-run">
      <div className="row">
        <StatusBadge status={r.status} />
        <a href={`#/runs/${runId}`}>
          run #{runId}: {r.title}
        </a>
      </div>
      {(r.status === 'running' || r.status === 'queued') && (
        <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />
      )}
      {ppl && (
        <p>
          Perplexity <strong className="mono">{ppl.value.toFixed(4)}</strong>
          {stderr && <span className="mono"> ± {stderr.value.toFixed(4)}</span>}
          {chunks !== null && <span className="muted"> over {chunks} chunks</span>}
        </p>
      )}
      {ppl && vocabSize && (
        <PerplexityWarnings chunks={chunks} contextSize={contextSize} ppls={[ppl.value]} vocabSize={config ? vocabSize(config.variant.modelId) : null} />
      )}
      {made && (
        <p>
          New model: <a href={`#/models/${made.ref}`}>{made.label}</a> · <a href={`#/playground/${made.ref}`}>try it in the Playground</a>
        </p>
      )}
      {r.error && <p className="error-text">{r.error}</p>}
    </div>
  );
}
