import { useEffect, useState } from 'react';
import type { ModelInspection, ModelRole } from '../../../src-shared/domain/models.js';
import { ErrorBanner, Fields } from '../../ui/components.js';
import { useAction } from '../../ui/useApi.js';
import { bytes, count } from '../../ui/format.js';
import { navigate } from '../../app/router.js';
import { PathField } from '../../ui/PathField.js';
import { RolePicker } from './RolePicker.js';

/** Path (typed, picked or dropped) → header preview → add with roles and a note. */
export function AddModelPanel({ initialPath, onClose }: { initialPath: string | null; onClose: () => void }) {
  const [path, setPath] = useState(initialPath ?? '');
  const [preview, setPreview] = useState<ModelInspection | null>(null);
  const [roles, setRoles] = useState<ModelRole[]>([]);
  const [note, setNote] = useState('');
  const inspect = useAction('models.inspect');
  const add = useAction('models.add');

  const runInspect = async (p: string) => {
    setPreview(null);
    if (!p.trim()) return;
    setPreview(await inspect.run({ path: p }));
  };
  // A dropped file is inspected at once (the parent remounts this panel per dropped path).
  const inspectAction = inspect.run;
  useEffect(() => {
    if (initialPath) void inspectAction({ path: initialPath }).then(setPreview);
  }, [initialPath, inspectAction]);

  const submit = async () => {
    const entry = await add.run({ path, roles, note });
    if (entry) {
      onClose();
      navigate(`/models/${entry.id}`);
    }
  };
  const s = preview?.summary;
  return (
    <div className="panel" data-testid="add-model-panel">
      <div className="row">
        <PathField
          value={path}
          onChange={setPath}
          onSubmit={(p) => void runInspect(p)}
          label="Model file path"
          placeholder="/path/to/model.gguf"
          pick={{ kind: 'file', title: 'Add a GGUF model', extensions: ['gguf'] }}
          autoFocus
        />
        <button onClick={() => void runInspect(path)} disabled={inspect.pending || !path.trim()}>
          {inspect.pending ? 'Reading…' : 'Inspect'}
        </button>
        <button className="link" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={inspect.error} />
      {preview && s && (
        <div className="preview" data-testid="model-preview">
          <Fields
            rows={[
              ['Architecture', s.architecture],
              ['Parameters', count(s.parameterCount)],
              ['File size', bytes(preview.sizeBytes)],
              ['File type', s.fileType],
              ['Context', s.contextLength ?? '—'],
              ['Layers', s.blockCount ?? '—'],
              ['Chat template', s.hasChatTemplate ? 'yes' : 'no'],
              ['Kind', s.fileKind],
            ]}
          />
          {preview.existingId !== null ? (
            <p>
              Already in the library: <a href={`#/models/${preview.existingId}`}>open it</a>.
            </p>
          ) : (
            <div className="row">
              <RolePicker value={roles} onChange={setRoles} />
              <input className="grow" placeholder="Note (optional)" value={note} onChange={(e) => setNote(e.target.value)} aria-label="Note" />
              <button onClick={() => void submit()} disabled={add.pending}>
                Add to library
              </button>
            </div>
          )}
          <ErrorBanner error={add.error} />
        </div>
      )}
    </div>
  );
}
