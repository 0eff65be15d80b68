import { useState } from 'react';
import { EVAL_METRICS, METRIC_INFO, type EvalMetric } from '../../../src-shared/domain/evaluate.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { SplitSelect } from '../../ui/forms.js';
import { RunList } from '../../ui/RunList.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';
import { TeacherPicker } from '../distill/DistillPage.js';
import { useLibrary } from '../adapters/parts.js';
import { evalFormFromRun } from './eval-again.js';
import { LatestVersionNote } from '../datasets/LatestVersionNote.js';
import { buildInput, DEFAULT_FORM, errorAt as errorAtOf, newVariant, teacherAfterRemove, type EvalForm } from './eval-form.js';
import { FieldError, VariantFields } from './VariantFields.js';
import { ContaminationForm } from './ContaminationCheck.js';
import './evaluate.css';

/** The fields the form shows errors at: a service error on any other field goes to the banner under the form. */
const FORM_FIELDS = [
  'dataset',
  'version',
  'split',
  'variants',
  'teacher',
  'against',
  'metrics',
  'regex',
  'jsonSchema',
  'judge',
  'generation',
  'limit',
  'contamination',
];

const METRIC_HINT: Record<EvalMetric, string> = {
  exact: 'after lowercasing and removing punctuation and extra spaces',
  contains: 'the reference appears in the answer',
  regex: 'the answer matches a pattern',
  f1: 'SQuAD-style token overlap',
  rougeL: "rouge-score's LCS F-measure",
  chrf: "sacrebleu's chrF2, 0–100",
  json: 'the answer parses as JSON',
  schema: 'the answer matches a JSON schema',
  judge: 'an LLM judge scores 1–10 by a rubric',
  pairwise: 'the judge compares with the teacher, both orders',
};

/** `#/evaluate`: start an evaluation run (`#/evaluate/again/<run>`: filled with that run's settings), and the evaluation runs so far. */
export function EvaluatePage({ againId = null }: { againId?: number | null }) {
  return (
    <Page title="Evaluate">
      <p className="muted">
        Every variant answers every example of a dataset split with the same seed and settings; each answer is scored against the reference (or the teacher's
        answer), with 95% bootstrap intervals, the paired difference from the teacher, divergence from it, a routing simulation and a systems table. Answers are
        kept as they complete: cancel, close the app, resume later.
      </p>
      {againId !== null ? <AgainForm runId={againId} /> : <StartForm initial={DEFAULT_FORM} />}
      <h2>Evaluations</h2>
      <RunList kind="evaluate.run" href={(r) => `#/evaluate/run/${r.id}`} empty="No evaluation yet." />
      <h2>Contamination checks</h2>
      <p className="muted">
        On its own, without answers: which examples of an evaluation split share an n-gram (13 words by default) with training data, as lm-evaluation-harness's
        decontamination counts them.
      </p>
      <ContaminationForm />
      <RunList kind="evaluate.contamination" href={(r) => `#/evaluate/run/${r.id}`} empty="No contamination check yet." />
    </Page>
  );
}

/** The form filled with a past evaluation's settings ("run again from here"), its dataset at the latest version. */
function AgainForm({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId });
  if (run.error) return <ErrorBanner error={run.error} />;
  if (!run.data) return <p className="muted">Loading the settings of run {runId}…</p>;
  const r = run.data;
  if (r.kind !== 'evaluate.run' || r.config === null)
    return <ErrorBanner error={new Error(r.configError ?? `run ${runId} is not an evaluation (it is ${r.kind})`)} />;
  return (
    <>
      <p className="muted" data-testid="evaluate-again">
        Filled with the settings of run {runId}: change what its result asks for, then Start.
      </p>
      <LatestVersionNote name={r.config.dataset} ran={r.config.versionNumber} />
      <StartForm initial={evalFormFromRun(r.config)} />
    </>
  );
}

function StartForm({ initial }: { initial: EvalForm }) {
  const lib = useLibrary();
  const start = useAction('evaluate.start');
  const [f, setF] = useState<EvalForm>(initial);
  const [tried, setTried] = useState(false);
  const set = (patch: Partial<EvalForm>) => {
    setF((old) => ({ ...old, ...patch }));
    if (start.error) start.clearError(); // the service's verdict was on the form as it was
  };
  const built = buildInput(f);
  const server = start.error;
  const errorAt = (field: string, exact = false) => errorAtOf(field, built.errors, server, tried, exact);
  const unplaced = server && (!server.field || !FORM_FIELDS.some((p) => server.field === p || server.field!.startsWith(`${p}.`))) ? server : null;
  const go = async () => {
    setTried(true);
    if (!built.input) return;
    const r = await start.run(built.input);
    if (r) navigate(`/evaluate/run/${r.runId}`);
  };
  const toggleMetric = (m: EvalMetric, on: boolean) => set({ metrics: on ? [...f.metrics, m] : f.metrics.filter((x) => x !== m) });
  const genField = (label: string, key: 'temperature' | 'maxTokens' | 'seed', size: number) => (
    <label className="stacked">
      <span>
        {label} <input aria-label={label} size={size} value={f[key]} onChange={(e) => set({ [key]: e.target.value })} />
      </span>
      <FieldError text={errorAt(`generation.${key}`)} />
    </label>
  );
  const problems = Object.keys(built.errors).length;
  return (
    <div className="card eval-form" data-testid="evaluate-form">
      <h2>Data</h2>
      <div className="row">
        <DatasetSelect label="Dataset" value={f.dataset} onChange={(dataset) => set({ dataset, version: '' })} />
        {f.dataset ? (
          <VersionSplit key={f.dataset} dataset={f.dataset} version={f.version} split={f.split} onChange={set} />
        ) : (
          <>
            <select aria-label="Version" disabled>
              <option>latest version</option>
            </select>
            <SplitSelect value={f.split} onChange={(split) => set({ split })} />
          </>
        )}
      </div>
      <FieldError text={errorAt('dataset') ?? errorAt('version') ?? errorAt('split')} />

      <h2>Variants</h2>
      <div className="variants">
        {f.variants.map((v, i) => (
          <VariantFields
            key={i}
            index={i}
            value={v}
            onChange={(nv) => set({ variants: f.variants.map((x, j) => (j === i ? nv : x)) })}
            models={lib.models}
            adapters={lib.adapters}
            isTeacher={f.teacher === i}
            onTeacher={() => set({ teacher: i })}
            onRemove={f.variants.length > 1 ? () => set({ variants: f.variants.filter((_, j) => j !== i), teacher: teacherAfterRemove(f.teacher, i) }) : null}
            errorAt={errorAt}
          />
        ))}
      </div>
      <div className="row">
        {f.variants.length < 8 && (
          <button className="secondary" onClick={() => set({ variants: [...f.variants, newVariant()] })}>
            Add variant
          </button>
        )}
        <label>
          <input type="radio" name="eval-teacher" aria-label="No teacher" checked={f.teacher === null} onChange={() => set({ teacher: null })} /> no teacher
        </label>
        <span className="segmented" role="radiogroup" aria-label="Score against">
          {(['reference', 'teacher'] as const).map((a) => (
            <button key={a} role="radio" aria-checked={f.against === a} className={f.against === a ? 'on' : ''} onClick={() => set({ against: a })}>
              against the {a === 'reference' ? 'reference answer' : "teacher's answer"}
            </button>
          ))}
        </span>
      </div>
      {f.against === 'teacher' && (
        <p className="muted small">Each student answer is scored against the teacher's answer to the same example; the teacher's own answers are not scored.</p>
      )}
      <FieldError text={errorAt('teacher') ?? errorAt('against') ?? errorAt('variants', true)} />

      <h2>Metrics</h2>
      <div className="metric-checks" role="group" aria-label="Metrics">
        {EVAL_METRICS.map((m) => (
          <label key={m} className={`metric-check${f.metrics.includes(m) ? ' on' : ''}`} title={METRIC_HINT[m]}>
            <input type="checkbox" aria-label={METRIC_INFO[m].label} checked={f.metrics.includes(m)} onChange={(e) => toggleMetric(m, e.target.checked)} />
            <span>
              {METRIC_INFO[m].label}
              <span className="muted small">{METRIC_HINT[m]}</span>
            </span>
          </label>
        ))}
      </div>
      <FieldError text={errorAt('metrics')} testId="metrics-error" />
      {f.metrics.includes('regex') && (
        <label className="block">
          Pattern answers must match (JavaScript regular expression)
          <input aria-label="Regex" className="mono wide" value={f.regex} onChange={(e) => set({ regex: e.target.value })} placeholder="^\d+$" />
          <FieldError text={errorAt('regex')} />
        </label>
      )}
      {(f.metrics.includes('schema') || f.jsonSchema) && (
        <label className="block">
          JSON schema answers must match
          <textarea
            aria-label="JSON schema"
            rows={3}
            value={f.jsonSchema}
            onChange={(e) => set({ jsonSchema: e.target.value })}
            placeholder='{"type": "object", …}'
          />
          <FieldError text={errorAt('jsonSchema')} testId="schema-error" />
        </label>
      )}
      <label>
        <input type="checkbox" aria-label="LLM judge" checked={f.judging} onChange={(e) => set({ judging: e.target.checked })} /> LLM judge: a model scores each
        answer 1–10 by a rubric, and compares each student answer with the teacher's in both orders
      </label>
      {f.judging && (
        <div className="card inset" data-testid="eval-judge">
          <TeacherPicker label="Judge" value={f.judge} onChange={(judge) => set({ judge })} />
          <FieldError text={errorAt('judge.model')} />
          <label className="block">
            Rubric
            <textarea aria-label="Rubric" rows={2} value={f.rubric} onChange={(e) => set({ rubric: e.target.value })} />
          </label>
          <FieldError text={errorAt('judge.rubric')} />
        </div>
      )}
      <FieldError text={f.judging ? null : errorAt('judge')} />

      <h2>Generation (the same for every generated answer)</h2>
      <div className="row align-start">
        {genField('temperature', 'temperature', 4)}
        {genField('max tokens', 'maxTokens', 6)}
        {genField('seed', 'seed', 8)}
        <label className="stacked">
          <span>
            only the first <input aria-label="Limit" size={6} value={f.limit} placeholder="all" onChange={(e) => set({ limit: e.target.value })} /> examples
          </span>
          <FieldError text={errorAt('limit')} />
        </label>
      </div>

      <h2>Also measure</h2>
      <div className="row">
        <label title="Teacher-forced on the teacher's answers: KLD(teacher ‖ student), top-1 agreement and the student's NLL per example">
          <input type="checkbox" aria-label="Divergence" checked={f.divergence} onChange={(e) => set({ divergence: e.target.checked })} /> divergence from the
          teacher
        </label>
        <label title="Parameters, size, memory, load time, time to first token, tokens/s and energy of each local model">
          <input type="checkbox" aria-label="Systems table" checked={f.systems} onChange={(e) => set({ systems: e.target.checked })} /> systems table
        </label>
        <label title="n-gram overlap of the evaluation split with training data: the report shows every metric with and without the flagged examples">
          <input type="checkbox" aria-label="Contamination check" checked={f.contaminating} onChange={(e) => set({ contaminating: e.target.checked })} />{' '}
          contamination check
        </label>
      </div>
      {f.contaminating && (
        <div className="card inset" data-testid="eval-contamination">
          {f.contamination.map((c, i) => (
            <div key={i} className="row">
              <span className="muted">against</span>
              <DatasetSelect
                label={`Contamination dataset ${i + 1}`}
                value={c.dataset}
                onChange={(dataset) => set({ contamination: f.contamination.map((x, j) => (j === i ? { ...x, dataset } : x)) })}
              />
              <SplitSelect
                label={`Contamination split ${i + 1}`}
                value={c.split}
                onChange={(split) => set({ contamination: f.contamination.map((x, j) => (j === i ? { ...x, split } : x)) })}
              />
              {f.contamination.length > 1 && (
                <button className="link" onClick={() => set({ contamination: f.contamination.filter((_, j) => j !== i) })}>
                  remove
                </button>
              )}
            </div>
          ))}
          <div className="row">
            {f.contamination.length < 8 && (
              <button className="secondary small" onClick={() => set({ contamination: [...f.contamination, { dataset: '', split: 'train' }] })}>
                Add a dataset
              </button>
            )}
            <label>
              n-gram length <input aria-label="n-gram length" size={3} value={f.n} onChange={(e) => set({ n: e.target.value })} />
            </label>
          </div>
          <FieldError text={errorAt('contamination.against') ?? errorAt('contamination.n') ?? errorAt('contamination')} />
        </div>
      )}

      <div className="row eval-start">
        <button onClick={() => void go()} disabled={start.pending || !lib.loaded || (tried && problems > 0)}>
          Evaluate
        </button>
        <span className="muted">
          {f.variants.length} variant{f.variants.length === 1 ? '' : 's'}
          {f.teacher !== null ? ` · teacher ${String.fromCharCode(65 + f.teacher)}` : ' · no teacher'}
          {tried && problems > 0 ? ` · ${problems} field${problems === 1 ? '' : 's'} to fix` : ''}
        </span>
      </div>
      <ErrorBanner error={unplaced} onClose={start.clearError} />
    </div>
  );
}

/** A dataset's version (latest by default) and split, with how many examples the split holds. */
function VersionSplit({
  dataset,
  version,
  split,
  onChange,
}: {
  dataset: string;
  version: string;
  split: EvalForm['split'];
  onChange: (patch: Partial<EvalForm>) => void;
}) {
  const detail = useQuery('datasets.get', { name: dataset, ...(version ? { version: Number(version) } : {}), previewLimit: 0 }, ['runs.changed']);
  const ds = detail.data;
  return (
    <>
      <select aria-label="Version" value={version} onChange={(e) => onChange({ version: e.target.value })}>
        <option value="">latest version</option>
        {ds?.versions.map((v) => (
          <option key={v.id} value={v.number}>
            @{v.number} {v.message.slice(0, 40)} ({v.exampleCount})
          </option>
        ))}
      </select>
      <SplitSelect value={split} onChange={(s) => onChange({ split: s })} />
      {ds && (
        <span className="muted small" data-testid="evaluate-split-count">
          {split === 'all' ? `${ds.version.exampleCount} examples` : `${ds.splits[split]} examples in ${split}`}
          {split === 'test' && ds.testFrozen ? ' (frozen)' : ''}
        </span>
      )}
    </>
  );
}
