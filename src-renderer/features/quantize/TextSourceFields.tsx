import type { TextSource } from '../../../src-shared/domain/adapters.js';
import { SplitSelect, type Split } from '../../ui/forms.js';
import { PathField } from '../../ui/PathField.js';
import { useQuery } from '../../ui/useApi.js';
import { DatasetSelect } from '../datasets/DatasetSelect.js';

/** A text to read, as typed: a dataset version's split, or a text file. `version` null: the latest. */
export interface TextDraft {
  kind: 'dataset' | 'file';
  dataset: string;
  version: number | null;
  split: Split;
  textFile: string;
}

export const textDraft = (split: Split): TextDraft => ({ kind: 'dataset', dataset: '', version: null, split, textFile: '' });

/** The draft as the contract's TextSource, or null while it names nothing. */
export function textSource(d: TextDraft): TextSource | null {
  if (d.kind === 'file') return d.textFile.trim() ? { textFile: d.textFile.trim() } : null;
  return d.dataset ? { dataset: d.dataset, ...(d.version !== null ? { version: d.version } : {}), split: d.split } : null;
}

/** A dataset's committed versions, newest first (the latest by default). */
function VersionSelect({ dataset, value, onChange, label }: { dataset: string; value: number | null; onChange: (v: number | null) => void; label: string }) {
  const detail = useQuery('datasets.get', { name: dataset, previewLimit: 0 }, ['runs.changed'], [dataset]);
  const versions = [...(detail.data?.versions ?? [])].reverse();
  return (
    <select aria-label={label} value={value ?? ''} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}>
      <option value="">latest version</option>
      {versions.map((v) => (
        <option key={v.id} value={v.number}>
          v{v.number} ({v.exampleCount} examples)
        </option>
      ))}
    </select>
  );
}

/** Dataset (version, split) or text file, named `<label> dataset`, `<label> version`, `<label> split`, `<label> text file`. */
export function TextSourceFields({ value, onChange, label }: { value: TextDraft; onChange: (v: TextDraft) => void; label: string }) {
  const set = (patch: Partial<TextDraft>) => onChange({ ...value, ...patch });
  return (
    <>
      <span className="segmented" role="radiogroup" aria-label={`${label} text`}>
        <button role="radio" aria-checked={value.kind === 'dataset'} className={value.kind === 'dataset' ? 'on' : ''} onClick={() => set({ kind: 'dataset' })}>
          Dataset
        </button>
        <button role="radio" aria-checked={value.kind === 'file'} className={value.kind === 'file' ? 'on' : ''} onClick={() => set({ kind: 'file' })}>
          Text file
        </button>
      </span>
      {value.kind === 'file' ? (
        <PathField
          value={value.textFile}
          onChange={(textFile) => set({ textFile })}
          label={`${label} text file`}
          placeholder="/path/to/text.txt"
          pick={{ kind: 'file', title: `${label}: a text file`, extensions: ['txt', 'md', 'raw'] }}
        />
      ) : (
        <>
          <DatasetSelect label={`${label} dataset`} value={value.dataset} onChange={(dataset) => set({ dataset, version: null })} />
          {value.dataset && <VersionSelect dataset={value.dataset} value={value.version} onChange={(version) => set({ version })} label={`${label} version`} />}
          <SplitSelect value={value.split} onChange={(split) => set({ split })} label={`${label} split`} />
        </>
      )}
    </>
  );
}
