import { useState } from 'react';
import type { OpInput } from '../../../src-shared/contract/index.js';
import { Empty, ErrorBanner, Notice, Page, ProgressBar, StatusBadge } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { when } from '../../ui/format.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';

/** Start a distillation run, and the runs so far. */
export function DistillPage() {
  const runs = useQuery('runs.list', { kind: 'distill' }, ['runs.changed']);
  const start = useAction('distill.start');
  const [f, setF] = useState({
    dataset: '',
    split: 'all' as 'all' | 'train' | 'validation' | 'test',
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
    jsonSchema: '',
    judging: false,
    rubric: 'The answer is correct, complete and helpful.',
    threshold: '6',
    outName: '',
  });
  const [teacher, setTeacher] = useState<TeacherChoice>(noTeacher);
  const [judge, setJudge] = useState<TeacherChoice>(noTeacher);
  const t = teacherInput(teacher);
  const j = f.judging ? teacherInput(judge) : null;
  let schema: Record<string, unknown> | undefined;
  let schemaError: string | null = null;
  if (f.jsonSchema.trim()) {
    try {
      schema = JSON.parse(f.jsonSchema) as Record<string, unknown>;
    } catch (e) {
      schemaError = `JSON schema: ${(e as Error).message}`;
    }
  }
  const set = (patch: Partial<typeof f>) => setF({ ...f, ...patch });
  const ready = f.dataset !== '' && t !== null;
  const estimate = useQuery(
    'distill.estimate',
    {
      dataset: f.dataset || 'none',
      split: f.split,
      teacher: t ?? { modelId: 1 },
      generation: { maxTokens: Number(f.maxTokens) || 1, samples: Number(f.samples) || 1 },
      ...(f.limit ? { limit: Number(f.limit) } : {}),
    },
    [],
    [ready, JSON.stringify(t)],
  );
  const e = ready ? estimate.data : null;
  const go = async () => {
    const r = await start.run({
      dataset: f.dataset,
      split: f.split,
      teacher: t!,
      ...(schema ? { jsonSchema: schema } : {}),
      ...(j ? { judge: { teacher: j, rubric: f.rubric, threshold: Number(f.threshold) } } : {}),
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
          <DatasetSelect label="Dataset" value={f.dataset} onChange={(dataset) => set({ dataset, outName: f.outName || `${dataset}-distilled` })} />
          <select aria-label="Split" value={f.split} onChange={(e) => set({ split: e.target.value as typeof f.split })}>
            <option value="all">all examples</option>
            <option value="train">train</option>
            <option value="validation">validation</option>
            <option value="test">test</option>
          </select>
        </div>
        <TeacherPicker label="Teacher" value={teacher} onChange={setTeacher} />
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
        <label className="block">
          Structured output: a JSON schema (optional; a grammar on local teachers, response_format on servers; answers that do not match are rejected)
          <textarea aria-label="JSON schema" rows={2} value={f.jsonSchema} onChange={(e) => set({ jsonSchema: e.target.value })} placeholder='{"type": "object", …}' />
        </label>
        {schemaError && <p className="error-text">{schemaError}</p>}
        <label>
          <input type="checkbox" aria-label="LLM judge" checked={f.judging} onChange={(e) => set({ judging: e.target.checked })} /> LLM judge: a model scores each answer (1–10)
          against a rubric; below the pass mark it is rejected
        </label>
        {f.judging && (
          <div className="card inset" data-testid="judge-form">
            <TeacherPicker label="Judge" value={judge} onChange={setJudge} />
            <label className="block">
              Rubric
              <textarea aria-label="Rubric" rows={2} value={f.rubric} onChange={(e) => set({ rubric: e.target.value })} />
            </label>
            {field('pass mark (1–10)', 'threshold', 3)}
          </div>
        )}
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
          <button onClick={() => void go()} disabled={!ready || !f.outName.trim() || start.pending || schemaError !== null || (f.judging && (!j || !f.rubric.trim()))}>
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

type TeacherInput = OpInput<'distill.start'>['teacher'];
interface TeacherChoice {
  source: '' | 'server' | string; // '' none yet, 'server' an OpenAI-compatible URL, else a model id
  baseUrl: string;
  model: string;
  apiKeySecret: string;
}
const noTeacher: TeacherChoice = { source: '', baseUrl: 'http://127.0.0.1:8080/v1', model: '', apiKeySecret: '' };

function teacherInput(t: TeacherChoice): TeacherInput | null {
  if (t.source === '') return null;
  if (t.source !== 'server') return { modelId: Number(t.source) };
  if (!t.baseUrl.trim() || !t.model.trim()) return null;
  return { baseUrl: t.baseUrl.trim(), model: t.model.trim(), ...(t.apiKeySecret ? { apiKeySecret: t.apiKeySecret } : {}) };
}

/**
 * A model of the library, or an OpenAI-compatible server (URL, model name, a saved API key). A new key is typed once
 * into a password field and saved encrypted; runs refer to it by name.
 */
function TeacherPicker({ label, value, onChange }: { label: string; value: TeacherChoice; onChange(v: TeacherChoice): void }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const secrets = useQuery('secrets.list', {}, []);
  const save = useAction('secrets.set');
  const [adding, setAdding] = useState<{ name: string; value: string } | null>(null);
  const set = (patch: Partial<TeacherChoice>) => onChange({ ...value, ...patch });
  return (
    <div className="teacher-picker">
      <div className="row">
        <span className="muted">{label}</span>
        <select aria-label={label} value={value.source} onChange={(e) => set({ source: e.target.value })}>
          <option value="">{label.toLowerCase()}…</option>
          {models.data?.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} ({m.summary.fileType})
            </option>
          ))}
          <option value="server">OpenAI-compatible server…</option>
        </select>
        {value.source === 'server' && (
          <>
            <input aria-label={`${label} URL`} size={28} value={value.baseUrl} onChange={(e) => set({ baseUrl: e.target.value })} placeholder="http://host:port/v1" />
            <input aria-label={`${label} model name`} size={16} value={value.model} onChange={(e) => set({ model: e.target.value })} placeholder="model name" />
            <select aria-label={`${label} API key`} value={value.apiKeySecret} onChange={(e) => (e.target.value === '+' ? setAdding({ name: '', value: '' }) : set({ apiKeySecret: e.target.value }))}>
              <option value="">no API key</option>
              {secrets.data?.secrets.map((k) => (
                <option key={k.name} value={k.name}>
                  key: {k.name}
                </option>
              ))}
              <option value="+">add an API key…</option>
            </select>
          </>
        )}
      </div>
      {adding && (
        <div className="row" data-testid="add-api-key">
          <input aria-label="Key name" size={12} placeholder="name" value={adding.name} onChange={(e) => setAdding({ ...adding, name: e.target.value })} />
          <input aria-label="API key" type="password" autoComplete="off" size={28} placeholder="sk-…" value={adding.value} onChange={(e) => setAdding({ ...adding, value: e.target.value })} />
          <button
            disabled={!adding.name.trim() || !adding.value || save.pending}
            onClick={() =>
              void save.run({ name: adding.name.trim(), value: adding.value }).then((r) => {
                if (!r) return;
                setAdding(null);
                secrets.refetch();
                set({ apiKeySecret: r.name });
              })
            }
          >
            Save key
          </button>
          <button className="secondary" onClick={() => setAdding(null)}>
            Cancel
          </button>
          <span className="muted">encrypted with {secrets.data?.backend ?? '…'}; never shown again</span>
        </div>
      )}
      <ErrorBanner error={save.error} onClose={save.clearError} />
    </div>
  );
}

/** One distillation run: progress, and the answers as they arrive, beside their prompts. */
export function DistillRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed']);
  const [only, setOnly] = useState<'' | 'included' | 'rejected'>('');
  const answers = useQuery('distill.answers', { runId, limit: 200, ...(only ? { only } : {}) }, ['runs.changed'], [only]);
  const include = useAction('distill.include');
  const exclude = useAction('distill.exclude');
  const [included, setIncluded] = useState<string | null>(null);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
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
      actions={controls.buttons}
    >
      <ErrorBanner error={run.error ?? controls.error ?? include.error ?? exclude.error} />
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
                <th>Judge</th>
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
                    {x.included && (
                      <div>
                        <button
                          className="link"
                          onClick={() =>
                            void exclude.run({ runId, position: x.position, sample: x.sample }).then((res) => {
                              if (!res) return;
                              setIncluded(
                                res.removedFromWorkingCopy
                                  ? `${res.label}: removed from the working copy of ${res.outName}; commit it there`
                                  : `${res.label}: it will not be in ${res.outName}`,
                              );
                              answers.refetch();
                            })
                          }
                        >
                          exclude
                        </button>
                      </div>
                    )}
                  </td>
                  <td className="muted" title={x.judgeReason ?? undefined}>
                    {x.judgeScore !== null ? `${x.judgeScore}/10` : '–'}
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
