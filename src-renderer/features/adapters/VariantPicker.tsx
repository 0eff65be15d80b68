import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { AttachedEditor, type ScaleDraft } from './parts.js';
import { ModelSelect } from '../../ui/forms.js';

/** "Model" and its select; choosing another model is `onChange` (the page drops what belonged to the old one). */
export function ModelField({ models, model, onChange }: { models: ModelEntry[]; model: ModelEntry | undefined; onChange: (id: number) => void }) {
  return (
    <label>
      {/* two text nodes, as the forms always had: one node "Model " shapes a pixel narrower */}
      {'Model'} <ModelSelect models={models} value={model?.id ?? null} onChange={onChange} />
    </label>
  );
}

/** A variant: the model, and the adapters attached to it at scales; choosing another model detaches them. */
export function VariantPicker({
  models,
  adapters,
  model,
  onModel,
  value,
  onChange,
  label,
}: {
  models: ModelEntry[];
  adapters: AdapterEntry[];
  model: ModelEntry | undefined;
  onModel: (id: number) => void;
  value: ScaleDraft[];
  onChange: (v: ScaleDraft[]) => void;
  /** Prefix of the adapter controls' accessible names, e.g. "Merge". */
  label: string;
}) {
  return (
    <>
      <ModelField
        models={models}
        model={model}
        onChange={(id) => {
          onModel(id);
          onChange([]);
        }}
      />
      <AttachedEditor label={label} model={model} adapters={adapters} value={value} onChange={onChange} />
    </>
  );
}
