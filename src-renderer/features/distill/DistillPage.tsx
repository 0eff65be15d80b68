import { useState } from 'react';
import { Empty, ErrorBanner, Notice, Page, ProgressBar, StatusBadge } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { when } from '../../ui/format.js';

/** Start a distillation run, and the runs so far. */
export function DistillPage() {
  const datasets = useQuery('datasets.list', {}, ['runs.changed']);
  const models = useQuery('models.list', {}, ['models.changed']);
  const runs = useQuery('runs.list', { kind: 'distill' }, ['runs.changed']);
  const start = useAction('distill.start');
  const [f, setF] = useState({
    dataset: '',
    split: 'all' as 'all' | 'train' | 'validation' | 'test',
    teacher: '',
    system: '',
    user: '{{prompt}}',
    temperature: '0.7',
    maxTokens: '512',
    samples: '1',
    seed: '42',
    parallel: '',
    limit: '',
    keepTruncated: false,
    refusals: true,
    mustMatch: '',
    outName: '',
  });
  const set = (patch: Partial<typeof f>) => setF({ ...f, ...patch });
  const ready = f.dataset !== '' && f.teacher !== '';
  const estimate = useQuery(
    'distill.estimate',
    {
      dataset: f.dataset || 'none',
      split: f.split,
      teacher: { modelId: Number(f.teacher) || 1 },
      generation: { maxTokens: Number(f.maxTokens) || 1, samples: Number(f.samples) || 1 },
      ...(f.limit ? { limit: Number(f.limit) } : {}),
    },
    [],
    [ready],
  );
  const e = ready ? estimate.data : null;
  const go = async () => {
    const r = await start.run({
      dataset: f.dataset,
      split: f.split,
      teacher: { modelId: Number(f.teacher) },
      template: { system: f.system.trim() ? f.system : null, user: f.user },
      generation: { temperature: Number(f.temperature), maxTokens: Number(f.maxTokens), samples: Number(f.samples), seed: Number(f.seed) },
      filters: { truncated: !f.keepTruncated, refusals: f.refusals, ...(f.mustMatch ? { mustMatch: f.mustMatch } : {}) },
      ...(f.parallel ? { parallel: Number(f.parallel) } : {}),
      ...(f.limit ? { limit: Number(f.limit) } : {}),
      outName: f.outName,
    });
    if (r) navigate(`/distill/${r.runId}`);
  };
  const field = (label: string, key: keyof typeof f, size = 6) => (
    <label>
      {label} <input aria-label={label} size={size} value={String(f[key])} onChange={(e) => set({ [key]: e.target.value })} />
    </label>
  );
  return (
    <Page title="Distill">
      <p className="muted">
        A teacher model answers every prompt of a dataset version; its answers become a new dataset, the student's training set. Each answer is kept as it
        completes: cancel, close the app, resume later.
      </p>
      <div className="card" data-testid="distill-form">
        <div className="row">
          <select
            aria-label="Dataset"
            value={f.dataset}
            onChange={(e) => set({ dataset: e.target.value, outName: f.outName || `${e.target.value}-distilled` })}
          >
            <option value="">dataset…</option>
            {datasets.data?.map((d) => (
              <option key={d.id} value={d.name}>
                {d.name}@{d.latest.number} ({d.latest.exampleCount})
              </option>
            ))}
          </select>
          <select aria-label="Split" value={f.split} onChange={(e) => set({ split: e.target.value as typeof f.split })}>
            <option value="all">all examples</option>
            <option value="train">train</option>
            <option value="validation">validation</option>
            <option value="test">test</option>
          </select>
          <select aria-label="Teacher" value={f.teacher} onChange={(e) => set({ teacher: e.target.value })}>
            <option value="">teacher model…</option>
            {models.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({m.summary.fileType})
              </option>
            ))}
          </select>
        </div>
        <label className="block">
          System prompt (empty: each example's own)
          <textarea aria-label="System prompt" rows={2} value={f.system} onChange={(e) => set({ system: e.target.value })} />
        </label>
        <label className="block">
          Prompt template ({'{{prompt}}'}, {'{{system}}'}, {'{{reference}}'})
          <textarea aria-label="Prompt template" rows={2} value={f.user} onChange={(e) => set({ user: e.target.value })} />
        </label>
        <div className="row">
          {field('temperature', 'temperature', 4)}
          {field('max tokens', 'maxTokens', 5)}
          {field('samples', 'samples', 3)}
          {field('seed', 'seed', 6)}
          {field('parallel', 'parallel', 3)}
          {field('only the first', 'limit', 5)}
        </div>
        <div className="row">
          <label>
            <input type="checkbox" checked={!f.keepTruncated} onChange={(e) => set({ keepTruncated: !e.target.checked })} /> reject truncated answers
          </label>
          <label>
            <input type="checkbox" checked={f.refusals} onChange={(e) => set({ refusals: e.target.checked })} /> reject refusals
          </label>
          {field('must match (regex)', 'mustMatch', 16)}
        </div>
        {e && (
          <p className="muted" data-testid="distill-estimate">
            {e.answers.toLocaleString()} answers · at most {e.maxTokens.toLocaleString()} tokens
            {e.maxSeconds !== null && e.tokensPerSecond !== null
              ? ` · at most ${Math.ceil(e.maxSeconds / 60)} min at ${e.tokensPerSecond.toFixed(0)} tokens/s (${e.measuredBy})`
              : ' · speed not measured yet: benchmark the model or run a trial (only the first N)'}
          </p>
        )}
        <div className="row">
          {field('output dataset', 'outName', 24)}
          <button onClick={() => void go()} disabled={!f.dataset || !f.teacher || !f.outName.trim() || start.pending}>
            Start
          </button>
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
      </div>
      <h2>Runs</h2>
      {runs.data && runs.data.length === 0 && <Empty>No distillation yet.</Empty>}
      <table className="table">
        <tbody>
          {runs.data?.map((r) => (
            <tr key={r.id} className="clickable" onClick={() => navigate(`/distill/${r.id}`)}>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.title}</td>
              <td style={{ width: 260 }}>
                <ProgressBar done={r.progress.done} total={r.progress.total} />
              </td>
              <td className="muted">{when(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

/** One distillation run: progress, and the answers as they arrive, beside their prompts. */
export function DistillRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed']);
  const [only, setOnly] = useState<'' | 'included' | 'rejected'>('');
  const answers = useQuery('distill.answers', { runId, limit: 200, ...(only ? { only } : {}) }, ['runs.changed'], [only]);
  const cancel = useAction('runs.cancel');
  const include = useAction('distill.include');
  const [included, setIncluded] = useState<string | null>(null);
  const resume = useAction('runs.resume');
  const r = run.data;
  const a = answers.data;
  const out = r?.lineage.find((l) => l.direction === 'output' && l.kind === 'dataset');
  return (
    <Page
      title={
        <>
          <a href="#/distill" className="crumb">
            Distill
          </a>{' '}
          / run {runId}
        </>
      }
      actions={
        r && (
          <>
            {(r.status === 'running' || r.status === 'queued') && (
              <button className="secondary" onClick={() => void cancel.run({ id: runId })}>
                Cancel
              </button>
            )}
            {['interrupted', 'failed', 'cancelled'].includes(r.status) && <button onClick={() => void resume.run({ id: runId })}>Resume</button>}
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? cancel.error ?? resume.error ?? include.error} />
      <Notice text={included} onClose={() => setIncluded(null)} />
      {r && (
        <div className="card" data-testid="distill-progress">
          <div className="row">
            <StatusBadge status={r.status} /> <strong>{r.title}</strong>
          </div>
          <ProgressBar done={r.progress.done} total={r.progress.total} label={r.progress.message || undefined} />
          {r.error && <p className="error-text">{r.error}</p>}
          {out && (
            <p>
              Training set: <a href={`#/datasets/${encodeURIComponent(out.label)}`}>{out.label}</a>
            </p>
          )}
        </div>
      )}
      {a && (
        <>
          <div className="row">
            <button className={only === '' ? '' : 'secondary'} onClick={() => setOnly('')}>
              {a.total} answers
            </button>
            <button className={only === 'included' ? '' : 'secondary'} onClick={() => setOnly('included')}>
              {a.included} kept
            </button>
            <button className={only === 'rejected' ? '' : 'secondary'} onClick={() => setOnly('rejected')}>
              {a.rejected} rejected
            </button>
          </div>
          <table className="table answers" data-testid="distill-answers">
            <thead>
              <tr>
                <th>#</th>
                <th>Prompt</th>
                <th>Answer</th>
                <th>Tokens</th>
              </tr>
            </thead>
            <tbody>
              {a.rows.map((x) => (
                <tr key={`${x.position}-${x.sample}`} className={x.rejected ? 'rejected' : ''}>
                  <td className="muted">
                    {x.position}
                    {x.sample ? `.${x.sample}` : ''}
                  </td>
                  <td className="pre">{x.prompt.at(-1)?.content}</td>
                  <td className="pre">
                    {x.answer}
                    {x.rejected && (
                      <div className="error-text">
                        rejected: {x.rejected}{' '}
                        {!x.included && (
                          <button
                            className="link"
                            onClick={() =>
                              void include.run({ runId, position: x.position, sample: x.sample }).then((res) => {
                                if (!res) return;
                                setIncluded(
                                  res.addedToWorkingCopy
                                    ? `${res.label}: added to the working copy of ${res.outName}; commit it there`
                                    : `${res.label}: it will be in ${res.outName}`,
                                );
                                answers.refetch();
                              })
                            }
                          >
                            include anyway
                          </button>
                        )}
                      </div>
                    )}
                  </td>
                  <td className="muted">
                    {x.completionTokens ?? '–'} · {(x.ms / 1000).toFixed(1)} s
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
