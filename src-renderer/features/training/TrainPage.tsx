import { useState } from 'react';
import type { JobConfig } from '../../../src-shared/contract/jobs.js';
import { DEFAULT_RECIPE, DEFAULT_TARGET_MODULES, TRAINERS, type Trainer } from '../../../src-shared/domain/training.js';
import { navigate } from '../../app/router.js';
import { ErrorBanner, Page } from '../../ui/components.js';
import { ModelSelect, parseNumber } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';
import { RunList } from '../../ui/RunList.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';

export const TRAINER_LABEL: Record<Trainer, string> = { axolotl: 'Axolotl', trl: 'TRL', unsloth: 'Unsloth', llamafactory: 'LLaMA-Factory' };

/** The recipe's numeric choices as typed (strings), with their bounds. */
const NUMBERS = [
  ['loraRank', 'LoRA rank', { min: 1, max: 1024, int: true }],
  ['loraAlpha', 'LoRA alpha', { min: 0.0001, max: 1_000_000 }],
  ['loraDropout', 'LoRA dropout', { min: 0, max: 0.9 }],
  ['epochs', 'Epochs', { min: 0.0001, max: 1000 }],
  ['learningRate', 'Learning rate', { min: 1e-12, max: 1 }],
  ['maxLength', 'Max length', { min: 16, max: 1_048_576, int: true }],
  ['microBatchSize', 'Micro batch size', { min: 1, max: 4096, int: true }],
  ['gradientAccumulation', 'Gradient accumulation', { min: 1, max: 4096, int: true }],
] as const;
type NumberField = (typeof NUMBERS)[number][0];

/** The folder's parent as typed in the output field (for the default name). */
const joinPath = (dir: string, name: string) => `${dir.replace(/[\\/]+$/, '')}${dir.includes('\\') && !dir.includes('/') ? '\\' : '/'}${name}`;

/**
 * Hand-off to a trainer: a dataset version (a distillation's output, curated or not) as a training folder for Axolotl,
 * TRL, Unsloth or LLaMA-Factory — data, recipe, README — and, from a distillation that kept the teacher's soft labels,
 * Axolotl's knowledge-distillation data.
 */
export function TrainPage({ again }: { again?: number }) {
  // "run again from here": a past export's settings, its dataset read at its latest version (the point after curation)
  const past = useQuery('runs.get', again !== undefined ? { id: again } : null, [], [again]);
  if (again === undefined) return <TrainForm initial={null} title="Train" />;
  const config = past.data?.kind === 'training.export' ? past.data.config : null;
  if (!config)
    return (
      <Page title={`Train: again from run ${again}`}>{past.error ? <ErrorBanner error={past.error} /> : <p className="muted">Reading run {again}…</p>}</Page>
    );
  return <TrainForm initial={config} title={`Train: again from run ${again}`} />;
}

function TrainForm({ initial: c, title }: { initial: JobConfig<'training.export'> | null; title: string }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const start = useAction('training.export');
  const [dataset, setDataset] = useState(c?.dataset ?? '');
  const [version, setVersion] = useState<number | null>(null);
  const plan = useQuery('training.plan', dataset ? { dataset, ...(version ? { version } : {}) } : null, ['runs.changed'], [dataset, version]);
  const detail = useQuery('datasets.get', dataset ? { name: dataset, previewLimit: 0 } : null, ['runs.changed'], [dataset]);
  const [trainer, setTrainer] = useState<Trainer>(c?.trainer ?? 'axolotl');
  const [hfId, setHfId] = useState(c?.studentHfId ?? '');
  const [numbers, setNumbers] = useState<Record<NumberField, string>>(
    () => Object.fromEntries(NUMBERS.map(([k]) => [k, String((c?.recipe ?? DEFAULT_RECIPE)[k])])) as Record<NumberField, string>,
  );
  const [modules, setModules] = useState<string>((c?.recipe.targetModules ?? DEFAULT_TARGET_MODULES).join(', '));
  const [validation, setValidation] = useState<'validation' | 'none' | null>(c?.validation ?? null);
  const [kd, setKd] = useState(c?.kd != null);
  const [studentId, setStudentId] = useState<number | null>(c?.kd?.modelId ?? null);
  const [parent, setParent] = useState(c ? c.outDir.replace(/[\\/][^\\/]*[\\/]?$/, '') : '');
  const p = (dataset && plan.data?.dataset === dataset ? plan.data : null) ?? undefined;
  const folder = p && parent.trim() ? joinPath(parent.trim(), p.defaultFolderName[trainer]) : '';
  const values = Object.fromEntries(NUMBERS.map(([k, , bounds]) => [k, parseNumber(numbers[k], bounds)])) as Record<NumberField, number | null>;
  const badNumbers = NUMBERS.filter(([k]) => values[k] === null).map(([, label]) => label);
  const targetModules = modules
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const kdPossible = p?.distillRunId != null;
  const useKd = kd && kdPossible && trainer === 'axolotl';
  const student = models.data?.find((m) => m.id === studentId) ?? null;
  const ready =
    p !== undefined && p.train > 0 && hfId.trim() !== '' && folder !== '' && badNumbers.length === 0 && targetModules.length > 0 && (!useKd || student);
  const go = async (force = false) => {
    if (!ready) return;
    const r = await start.run({
      dataset,
      ...(version ? { version } : {}),
      trainer,
      studentHfId: hfId.trim(),
      recipe: { ...(values as Record<NumberField, number>), seed: DEFAULT_RECIPE.seed, targetModules },
      validation: validation ?? p.defaultValidation,
      ...(useKd ? { kd: { studentModelId: student!.id } } : {}),
      outDir: folder,
      force,
    });
    if (r) navigate(`/train/${r.runId}`);
  };
  const versions = [...(dataset ? (detail.data?.versions ?? []) : [])].reverse();
  return (
    <Page title={title}>
      <p className="muted">
        Distillery makes the teacher&apos;s data and judges the student; the student is trained on a GPU box with a trainer. Export a dataset version as a
        folder the trainer runs as it is (data, recipe with your choices, a README with the one command), then bring the adapter back: the run page watches the
        trainer&apos;s output folder and imports the adapter when it is written.
      </p>
      <div className="card" data-testid="training-form">
        <div className="row">
          <label>Data</label>
          <DatasetSelect label="Dataset" value={dataset} onChange={(d) => (setDataset(d), setVersion(null), setValidation(null))} />
          {dataset && (
            <select aria-label="Version" value={version ?? ''} onChange={(e) => setVersion(e.target.value ? Number(e.target.value) : null)}>
              <option value="">latest version</option>
              {versions.map((v) => (
                <option key={v.id} value={v.number}>
                  v{v.number} ({v.exampleCount} examples)
                </option>
              ))}
            </select>
          )}
          {p && (
            <span className="muted" data-testid="training-plan">
              {p.dataset}@{p.version}: {p.train} {p.trainSplit === 'train' ? 'train' : ''} example{p.train === 1 ? '' : 's'} to train on
              {p.validation ? `, ${p.validation} for validation` : ''}
              {p.leftOut ? `, ${p.leftOut} left out (test split)` : ''}
              {p.distillRunId !== null && (
                <>
                  {' '}
                  · distilled by <a href={`#/distill/${p.distillRunId}`}>run {p.distillRunId}</a>
                </>
              )}
            </span>
          )}
        </div>
        {dataset && <ErrorBanner error={plan.error} />}
        {p && p.train === 0 && <p className="warn-text">This version has no example to train on.</p>}
        <div className="row">
          <label>Trainer</label>
          <span className="segmented" role="radiogroup" aria-label="Trainer">
            {TRAINERS.map((t) => (
              <button key={t} role="radio" aria-checked={trainer === t} className={trainer === t ? 'on' : ''} onClick={() => setTrainer(t)}>
                {TRAINER_LABEL[t]}
              </button>
            ))}
          </span>
        </div>
        <div className="row">
          <label>Student</label>
          <input
            className="grow mono"
            aria-label="Student Hugging Face id"
            placeholder="the original weights the student GGUF came from, e.g. Qwen/Qwen2.5-0.5B-Instruct"
            value={hfId}
            onChange={(e) => setHfId(e.target.value)}
          />
        </div>
        <fieldset className="recipe-fields" aria-label="Recipe">
          {NUMBERS.map(([k, label]) => (
            <label key={k} className="inline">
              {label}
              <input
                aria-label={label}
                className={values[k] === null ? 'invalid' : undefined}
                size={7}
                value={numbers[k]}
                onChange={(e) => setNumbers({ ...numbers, [k]: e.target.value })}
              />
            </label>
          ))}
          <label className="inline grow">
            Target modules
            <input aria-label="Target modules" className="grow mono" value={modules} onChange={(e) => setModules(e.target.value)} />
          </label>
        </fieldset>
        <div className="row">
          <label className="inline">
            <input
              type="checkbox"
              aria-label="Validation split"
              checked={(validation ?? p?.defaultValidation) === 'validation'}
              disabled={!p || p.validation === 0}
              onChange={(e) => setValidation(e.target.checked ? 'validation' : 'none')}
            />{' '}
            validate on the validation split{p && p.validation === 0 ? ' (this version has none)' : ''}
          </label>
        </div>
        <div className="row">
          <label className="inline" title={kdPossible ? '' : 'KD needs a dataset made by a distillation run that kept the soft labels'}>
            <input type="checkbox" aria-label="Knowledge distillation" checked={kd} disabled={!kdPossible} onChange={(e) => setKd(e.target.checked)} />{' '}
            knowledge distillation from the teacher&apos;s soft labels
          </label>
          {kd && kdPossible && (
            <>
              <ModelSelect models={models.data ?? []} value={studentId} onChange={setStudentId} label="KD student model" />
              <span className="muted">the student GGUF whose vocabulary the token ids are in</span>
            </>
          )}
        </div>
        {kd && kdPossible && trainer !== 'axolotl' && (
          <p className="warn-text" data-testid="kd-axolotl-only">
            Only Axolotl trains from offline soft labels (its KD plugin): choose Axolotl, or untick knowledge distillation.
          </p>
        )}
        <div className="row">
          <PathField
            value={parent}
            onChange={setParent}
            label="Export into"
            placeholder="the folder to put the training folder in"
            pick={{ kind: 'folder', title: 'Export into' }}
          />
          <button onClick={() => void go()} disabled={!ready || start.pending || (kd && trainer !== 'axolotl')}>
            Export for {TRAINER_LABEL[trainer]}
          </button>
        </div>
        {folder && (
          <p className="muted" data-testid="training-folder">
            writes <code>{folder}</code>
          </p>
        )}
        {badNumbers.length > 0 && <p className="warn-text">Not a number in range: {badNumbers.join(', ')}.</p>}
        <WriteErrorBanner error={start.error} onClose={start.clearError} onReplace={() => void go(true)} />
      </div>
      <h2>Exports</h2>
      <RunList kind="training.export" href={(r) => `#/train/${r.id}`} empty="No training folder yet." />
    </Page>
  );
}
