import { FleetLines } from '../distill/DistillPage.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import { ModelSelect } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { useQuery } from '../../ui/useApi.js';
import { AttachedEditor } from '../adapters/parts.js';
import { ApiKeyField } from '../distill/ApiKeyField.js';
import { variantColor, variantLetter } from './eval-format.js';
import type { VariantDraft, VariantKind } from './eval-form.js';

const KINDS: { kind: VariantKind; label: string; title: string }[] = [
  { kind: 'model', label: 'Library model', title: 'A model of the library, with adapters at scales; answers generated in the run' },
  { kind: 'server', label: 'Server', title: 'An OpenAI-compatible server (URL, model name, a saved API key)' },
  { kind: 'distill', label: 'Distillation answers', title: "A distillation run's answers, by example position" },
  { kind: 'predictions', label: 'Predictions file', title: 'A JSONL file: one {"prediction": text} per line in the split\'s order, or with "id"' },
];

/** The fields of each kind that show their own error (any other error of the variant shows under it). */
const SPECIFIC: Record<VariantKind, string[]> = {
  model: ['modelId', 'adapters'],
  server: ['baseUrl', 'model', 'apiKeySecret'],
  distill: ['runId'],
  predictions: ['file'],
};

/** A field's error, under it. */
export function FieldError({ text, testId }: { text: string | null; testId?: string }) {
  return text ? (
    <span className="error-text field-error" role="alert" data-testid={testId}>
      {text}
    </span>
  ) : null;
}

/**
 * One variant of an evaluation: what answers (a library model with adapters, a server, a distillation run's answers, a
 * predictions file), whether it is the teacher, and its label.
 */
export function VariantFields({
  index,
  value,
  onChange,
  models,
  adapters,
  isTeacher,
  onTeacher,
  onRemove,
  errorAt,
}: {
  index: number;
  value: VariantDraft;
  onChange: (v: VariantDraft) => void;
  models: ModelEntry[];
  adapters: AdapterEntry[];
  isTeacher: boolean;
  onTeacher: () => void;
  onRemove: (() => void) | null;
  errorAt: (field: string) => string | null;
}) {
  const distills = useQuery('runs.list', { kind: 'distill.generate', limit: 100 }, ['runs.changed']);
  const set = (patch: Partial<VariantDraft>) => onChange({ ...value, ...patch });
  const name = `Variant ${index + 1}`;
  const at = `variants.${index}`;
  const model = models.find((m) => m.id === value.modelId);
  return (
    <fieldset className={`variant eval-variant${isTeacher ? ' teacher' : ''}`} aria-label={name} data-testid={`eval-variant-${index}`}>
      <legend>
        <span className="variant-index" style={{ background: variantColor(index) }}>
          {variantLetter(index)}
        </span>{' '}
        {name}
        {isTeacher && <span className="chip chip-teacher">teacher</span>}
      </legend>
      <div className="row">
        <span className="segmented" role="radiogroup" aria-label={`${name} kind`}>
          {KINDS.map((k) => (
            <button
              key={k.kind}
              role="radio"
              aria-checked={value.kind === k.kind}
              className={value.kind === k.kind ? 'on' : ''}
              title={k.title}
              onClick={() => set({ kind: k.kind })}
            >
              {k.label}
            </button>
          ))}
        </span>
      </div>
      {value.kind === 'model' && (
        <div className="row">
          <ModelSelect
            label={`${name} model`}
            models={models}
            value={value.modelId}
            onChange={(id) => {
              const m = models.find((x) => x.id === id);
              // adapters of another architecture cannot follow the model
              set({ modelId: id, adapters: value.adapters.filter((a) => adapters.find((x) => x.id === a.id)?.arch === m?.summary.architecture) });
            }}
          />
          <AttachedEditor label={name} model={model} adapters={adapters} value={value.adapters} onChange={(a) => set({ adapters: a })} />
          <FieldError text={errorAt(`${at}.modelId`) ?? errorAt(`${at}.adapters`)} />
        </div>
      )}
      {value.kind === 'server' && (
        <>
          <div className="row">
            <input
              aria-label={`${name} URL`}
              className="grow mono"
              value={value.baseUrl}
              onChange={(e) => set({ baseUrl: e.target.value })}
              placeholder="http://host:port/v1"
            />
            <input aria-label={`${name} model name`} size={16} value={value.model} onChange={(e) => set({ model: e.target.value })} placeholder="model name" />
            <ApiKeyField label={name} value={value.apiKeySecret} onChange={(apiKeySecret) => set({ apiKeySecret })} />
          </div>
          <FleetLines label={name} value={value.more} onChange={(more) => set({ more })} />
          <FieldError text={errorAt(`${at}.baseUrl`)} />
          <FieldError text={errorAt(`${at}.model`)} />
          <FieldError text={errorAt(`${at}.endpoints`)} />
          <FieldError text={errorAt(`${at}.apiKeySecret`)} />
        </>
      )}
      {value.kind === 'distill' && (
        <div className="row">
          <select
            aria-label={`${name} distillation run`}
            value={value.runId ?? ''}
            onChange={(e) => set({ runId: e.target.value ? Number(e.target.value) : null })}
          >
            <option value="">distillation run…</option>
            {distills.data?.map((r) => (
              <option key={r.id} value={r.id}>
                #{r.id} {r.title} ({r.status})
              </option>
            ))}
          </select>
          <span className="muted small">its answers, matched by example position</span>
          <FieldError text={errorAt(`${at}.runId`)} />
        </div>
      )}
      {value.kind === 'predictions' && (
        <>
          <div className="row">
            <PathField
              value={value.file}
              onChange={(file) => set({ file })}
              label={`${name} predictions file`}
              placeholder="/path/to/predictions.jsonl"
              pick={{ kind: 'file', title: 'A predictions JSONL file', extensions: ['jsonl', 'json'] }}
            />
          </div>
          <p className="muted small">
            One <code>{'{"prediction": "…"}'}</code> per line in the split's order, or with <code>"id"</code> naming the example's position.
          </p>
          <FieldError text={errorAt(`${at}.file`)} />
        </>
      )}
      <div className="row">
        <input
          className="grow"
          aria-label={`${name} label`}
          placeholder="label (optional)"
          value={value.label}
          onChange={(e) => set({ label: e.target.value })}
        />
        <label title="Pairwise judging, divergence and routing compare the other variants with the teacher">
          <input type="radio" name="eval-teacher" aria-label={`${name} is the teacher`} checked={isTeacher} onChange={onTeacher} /> teacher
        </label>
        {onRemove && (
          <button className="link" onClick={onRemove} aria-label={`Remove variant ${index + 1}`}>
            remove
          </button>
        )}
      </div>
      <FieldError text={errorAt(`${at}.label`)} />
      {![...SPECIFIC[value.kind], 'label'].some((f) => errorAt(`${at}.${f}`)) && <FieldError text={errorAt(at)} />}
    </fieldset>
  );
}
