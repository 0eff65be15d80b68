import { useState } from 'react';
import type { OpInput } from '../../../src-shared/contract/index.js';
import { Empty, ErrorBanner, Page, ProgressBar, StatusBadge } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate, useRoute } from '../../app/router.js';
import { when } from '../../ui/format.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';
import { LatestVersionNote } from '../datasets/LatestVersionNote.js';
import { DEFAULT_FORM, formFromRun, noTeacher, parseEndpointLine, type DistillForm, type TeacherChoice } from './distill-form.js';
import { ApiKeyField } from './ApiKeyField.js';

export { DistillRunPage } from './DistillRunPage.js';

/** Start a distillation run (at #/distill/again/<run>: filled with that run's settings), and the runs so far. */
export function DistillPage() {
  const route = useRoute();
  const againId = route[1] === 'again' && /^\d+$/.test(route[2] ?? '') ? Number(route[2]) : null;
  return (
    <Page title="Distill">
      <p className="muted">
        A teacher model answers every prompt of a dataset version; its answers become a new dataset, the student's training set. Each answer is kept as it
        completes: cancel, close the app, resume later.
      </p>
      {againId !== null ? <AgainForm key={againId} runId={againId} /> : <StartForm initial={null} />}
      <DistillRuns />
    </Page>
  );
}

/** The form filled with a past run's settings ("run again with these settings"). */
function AgainForm({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId });
  if (run.error) return <ErrorBanner error={run.error} />;
  if (!run.data) return <p className="muted">Loading the settings of run {runId}…</p>;
  const r = run.data;
  if (r.kind !== 'distill.generate' || r.config === null) {
    return <ErrorBanner error={new Error(r.configError ?? `run ${runId} is not a distillation (it is ${r.kind})`)} />;
  }
  const wrote = r.lineage.some((l) => l.direction === 'output' && l.kind === 'dataset');
  return <StartForm initial={{ ...formFromRun(r.config, wrote), from: runId, ranOn: r.config.versionNumber }} />;
}

function StartForm({ initial }: { initial: (ReturnType<typeof formFromRun> & { from: number; ranOn: number }) | null }) {
  const start = useAction('distill.start');
  const [f, setF] = useState<DistillForm>(initial?.form ?? DEFAULT_FORM);
  const [teacher, setTeacher] = useState<TeacherChoice>(initial?.teacher ?? noTeacher);
  const [judge, setJudge] = useState<TeacherChoice>(initial?.judge ?? noTeacher);
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
  const set = (patch: Partial<DistillForm>) => setF({ ...f, ...patch });
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
      ...(f.maxRejectPercent.trim() ? { maxRejectRate: Number(f.maxRejectPercent) / 100 } : {}), // blank: the default
      outName: f.outName,
    });
    if (r) navigate(`/distill/${r.runId}`);
  };
  const field = (label: string, key: keyof DistillForm, size = 6) => (
    <label>
      {label} <input aria-label={label} size={size} value={String(f[key])} onChange={(e) => set({ [key]: e.target.value })} />
    </label>
  );
  return (
    <>
      {initial && (
        <p className="muted" data-testid="distill-again">
          Filled with the settings of run {initial.from}: change what its result asks for, then Start.
        </p>
      )}
      {initial && f.dataset === initial.form.dataset && <LatestVersionNote name={f.dataset} ran={initial.ranOn} />}
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
        <TeacherPicker label="Teacher" value={teacher} onChange={setTeacher} fleet />
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
          <span title="A run that rejects more of its answers than this fails, saying why; one that keeps none always does">
            {field('fail above % rejected', 'maxRejectPercent', 3)}
          </span>
        </div>
        <label className="block">
          Structured output: a JSON schema (optional; a grammar on local teachers, response_format on servers; answers that do not match are rejected)
          <textarea
            aria-label="JSON schema"
            rows={2}
            value={f.jsonSchema}
            onChange={(e) => set({ jsonSchema: e.target.value })}
            placeholder='{"type": "object", …}'
          />
        </label>
        {schemaError && <p className="error-text">{schemaError}</p>}
        <label>
          <input type="checkbox" aria-label="LLM judge" checked={f.judging} onChange={(e) => set({ judging: e.target.checked })} /> LLM judge: a model scores
          each answer (1–10) against a rubric; below the pass mark it is rejected
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
          <button
            onClick={() => void go()}
            disabled={!ready || !f.outName.trim() || start.pending || schemaError !== null || (f.judging && (!j || !f.rubric.trim()))}
          >
            Start
          </button>
        </div>
        <ErrorBanner error={start.error} onClose={start.clearError} />
      </div>
    </>
  );
}

/** The distillation runs, with the answers each kept and rejected. */
function DistillRuns() {
  const runs = useQuery('runs.list', { kind: 'distill.generate' }, ['runs.changed']);
  const counts = useQuery('distill.counts', { runIds: runs.data?.map((r) => r.id) ?? [] }, ['runs.changed']);
  const countOf = new Map(counts.data?.map((c) => [c.runId, c]));
  return (
    <>
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
              <td className="muted" data-testid="distill-run-counts">
                {countOf.get(r.id) ? `${countOf.get(r.id)!.included} kept · ${countOf.get(r.id)!.rejected} rejected` : ''}
              </td>
              <td className="muted">{when(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

type TeacherInput = OpInput<'distill.start'>['teacher'];
function teacherInput(t: TeacherChoice): TeacherInput | null {
  if (t.source === '') return null;
  if (t.source !== 'server') return { modelId: Number(t.source) };
  if (!t.baseUrl.trim() || !t.model.trim()) return null;
  const key = t.apiKeySecret ? { apiKeySecret: t.apiKeySecret } : {};
  const first = { baseUrl: t.baseUrl.trim(), model: t.model.trim(), ...key };
  const lines = (t.more ?? '').split('\n').filter((l) => l.trim());
  if (lines.length === 0) return first;
  // a fleet: the server above and one endpoint per line, the same key for all
  const more = lines.map(parseEndpointLine);
  if (more.some((e) => 'error' in e)) return null;
  return { endpoints: [first, ...more.map((e) => ({ ...(e as { baseUrl: string; model: string }), ...key }))] } as TeacherInput;
}

/** A model of the library, or an OpenAI-compatible server (URL, model name, a saved API key: see ApiKeyField). */
export function TeacherPicker({
  label,
  value,
  onChange,
  fleet = false,
}: {
  label: string;
  value: TeacherChoice;
  onChange(v: TeacherChoice): void;
  fleet?: boolean;
}) {
  const models = useQuery('models.list', {}, ['models.changed']);
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
            <input
              aria-label={`${label} URL`}
              size={28}
              value={value.baseUrl}
              onChange={(e) => set({ baseUrl: e.target.value })}
              placeholder="http://host:port/v1"
            />
            <input aria-label={`${label} model name`} size={16} value={value.model} onChange={(e) => set({ model: e.target.value })} placeholder="model name" />
            <ApiKeyField label={label} value={value.apiKeySecret} onChange={(apiKeySecret) => set({ apiKeySecret })} />
          </>
        )}
      </div>
      {fleet && value.source === 'server' && <FleetLines label={label} value={value.more ?? ''} onChange={(more) => set({ more })} />}
    </div>
  );
}

/**
 * A fleet: more servers of the same model as one teacher (vLLM, SGLang, TGI or llama-server replicas), one
 * `URL#model[@concurrency]` per line; requests go by each one's measured speed, a failing one is drained.
 */
export function FleetLines({ label, value, onChange }: { label: string; value: string; onChange(v: string): void }) {
  const bad = value
    .split('\n')
    .filter((l) => l.trim())
    .map(parseEndpointLine)
    .find((e) => 'error' in e) as { error: string } | undefined;
  return (
    <div className="row">
      <textarea
        aria-label={`${label} more endpoints`}
        className="grow mono"
        rows={value ? Math.min(6, value.split('\n').length + 1) : 1}
        placeholder="more servers of the same model (a fleet), one URL#model or URL#model@concurrency per line"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      {bad && <span className="warn-text">{bad.error}</span>}
    </div>
  );
}
