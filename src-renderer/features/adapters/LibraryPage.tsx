import { useMemo, useState } from 'react';
import type { ColumnDef } from '@tanstack/react-table';
import type { AdapterEntry } from '../../../src-shared/domain/adapters.js';
import type { ModelEntry } from '../../../src-shared/domain/models.js';
import { DataTable } from '../../ui/DataTable.js';
import { Empty, ErrorBanner, Notice, StatusBadge } from '../../ui/components.js';
import { PathField } from '../../ui/PathField.js';
import { useAction } from '../../ui/useApi.js';
import { bytes, when } from '../../ui/format.js';
import { desktop } from '../../client.js';
import { AdaptersPage, useLibrary } from './parts.js';

/** The adapter library: what each adapter is, what it was checked against; import, check, remove. */
export function LibraryPage() {
  const lib = useLibrary();
  const [importing, setImporting] = useState(false);
  const [checking, setChecking] = useState<AdapterEntry | null>(null);
  const [removing, setRemoving] = useState<AdapterEntry | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useAction('adapters.remove');
  const showImport = importing || (lib.loaded && lib.adapters.length === 0);

  const columns = useMemo<ColumnDef<AdapterEntry, unknown>[]>(
    () => [
      { header: 'Name', accessorKey: 'name', cell: (c) => <strong title={c.row.original.path}>{c.getValue<string>()}</strong> },
      { header: 'Arch', accessorKey: 'arch' },
      { header: 'Rank', accessorKey: 'rank' },
      { header: 'Alpha', accessorKey: 'alpha' },
      {
        header: 'Targets',
        accessorFn: (a) => a.targets.join(','),
        cell: (c) => (
          <span className="chips">
            {c.row.original.targets.map((t) => (
              <span key={t} className="chip mono">
                {t}
              </span>
            ))}
          </span>
        ),
      },
      { header: 'Layers', accessorKey: 'layers' },
      { header: 'Size', accessorKey: 'sizeBytes', cell: (c) => bytes(c.getValue<number>()) },
      {
        header: 'Checked against',
        accessorFn: (a) => a.base?.name ?? '',
        cell: (c) => {
          const b = c.row.original.base;
          return b ? (
            <span title={`checked ${when(b.checkedAt)}`}>
              <a href={`#/models/${b.modelId}`}>{b.name}</a> <span className="ok-text">✓</span>
            </span>
          ) : (
            <span className="muted">not checked</span>
          );
        },
      },
      {
        header: 'From',
        accessorFn: (a) => a.source.format,
        cell: (c) => (
          <span className={`chip chip-${c.row.original.source.format}`} title={c.row.original.source.path}>
            {c.row.original.source.format === 'peft' ? 'PEFT' : 'GGUF'}
          </span>
        ),
      },
      {
        header: 'Status',
        accessorKey: 'status',
        cell: (c) =>
          c.row.original.status === 'missing' ? (
            <span className="error-text" title={c.row.original.path}>
              file not found
            </span>
          ) : (
            <StatusBadge status="ok" />
          ),
      },
      {
        id: 'actions',
        header: '',
        enableSorting: false,
        cell: (c) => (
          <span className="row-actions">
            <button
              className="secondary small"
              aria-label={`Check ${c.row.original.name}`}
              disabled={c.row.original.status === 'missing'}
              onClick={() => {
                setRemoving(null);
                setChecking(c.row.original);
              }}
            >
              Check…
            </button>
            <button
              className="secondary small"
              aria-label={`Remove ${c.row.original.name}`}
              onClick={() => {
                setChecking(null);
                setRemoving(c.row.original);
              }}
            >
              Remove
            </button>
          </span>
        ),
      },
    ],
    [],
  );

  return (
    <AdaptersPage
      tab="library"
      actions={
        <button
          onClick={() => {
            setNotice(null);
            setImporting(!showImport);
          }}
          aria-expanded={showImport}
        >
          Import adapter
        </button>
      }
    >
      <p className="muted">
        LoRA adapters for the GGUF models of the library: a GGUF adapter file is used where it is; a PEFT folder (adapter_config.json +
        adapter_model.safetensors) is converted to GGUF. Every adapter is checked against its base before the engine loads it.
      </p>
      <Notice text={notice} onClose={() => setNotice(null)} />
      {showImport && (
        <ImportPanel
          models={lib.models}
          onClose={lib.adapters.length > 0 ? () => setImporting(false) : null}
          onImported={(a) => {
            setImporting(false);
            setNotice(
              `${a.name} imported: ${a.arch}, rank ${a.rank}, alpha ${a.alpha}, ${a.targets.join(', ')}${a.base ? `; checked against ${a.base.name}` : ''}.`,
            );
          }}
        />
      )}
      {checking && (
        <CheckPanel
          key={checking.id}
          adapter={checking}
          models={lib.models}
          onClose={() => setChecking(null)}
          onChecked={(m) => {
            setChecking(null);
            setNotice(`${checking.name} fits ${m.name}: architecture, tensor names and shapes match.`);
          }}
        />
      )}
      {removing && (
        <div className="panel confirm" data-testid="remove-adapter">
          <div className="row">
            <span className="grow">
              Remove <strong>{removing.name}</strong> from the library?{' '}
              {removing.source.format === 'peft' ? (
                <span className="muted">The GGUF converted from {removing.source.path} is deleted; the PEFT folder stays.</span>
              ) : (
                <span className="muted">{removing.path} stays on disk.</span>
              )}
            </span>
            <button
              className="danger"
              disabled={remove.pending}
              onClick={() =>
                void remove.run({ id: removing.id }).then((r) => {
                  if (r) {
                    setNotice(`${removing.name} removed from the library.`);
                    setRemoving(null);
                  }
                })
              }
            >
              Remove
            </button>
            <button className="secondary" onClick={() => setRemoving(null)}>
              Cancel
            </button>
          </div>
          <ErrorBanner error={remove.error} onClose={remove.clearError} />
        </div>
      )}
      <ErrorBanner error={lib.error} />
      {lib.adapters.length > 0 ? (
        <div data-testid="adapters-table">
          <DataTable data={lib.adapters} columns={columns} rowTestId={(a) => `adapter-row-${a.name}`} />
        </div>
      ) : (
        lib.loaded && <Empty>No adapter yet. Import a GGUF LoRA file, or a PEFT folder with its base model.</Empty>
      )}
      {lib.adapters.length > 0 && (
        <p className="muted hint">
          Try them: <a href="#/adapters/compare">compare variants side by side</a>, <a href="#/adapters/sweep">sweep a scale</a>,{' '}
          <a href="#/adapters/perplexity">measure perplexity</a>, <a href="#/adapters/merge">merge into a model</a>, or attach them in the{' '}
          <a href="#/playground">Playground</a>.
        </p>
      )}
    </AdaptersPage>
  );
}

function ImportPanel({ models, onClose, onImported }: { models: ModelEntry[]; onClose: (() => void) | null; onImported: (a: AdapterEntry) => void }) {
  const [path, setPath] = useState('');
  const [baseModelId, setBaseModelId] = useState('');
  const [name, setName] = useState('');
  const [note, setNote] = useState('');
  const imp = useAction('adapters.import');
  const pickFolder = async () => {
    const picked = await desktop?.pickFolder({ title: 'A PEFT adapter folder (adapter_config.json + adapter_model.safetensors)' });
    if (picked) setPath(picked);
  };
  const looksPeft = path.trim() !== '' && !/\.gguf$/i.test(path.trim());
  const submit = async () => {
    const r = await imp.run({
      path: path.trim(),
      ...(baseModelId ? { baseModelId: Number(baseModelId) } : {}),
      ...(name.trim() ? { name: name.trim() } : {}),
      note,
    });
    if (r) onImported(r);
  };
  return (
    <div className="panel" data-testid="import-adapter">
      <div className="row">
        <PathField
          value={path}
          onChange={setPath}
          onSubmit={() => void submit()}
          label="Adapter path"
          placeholder="/path/to/adapter.gguf or /path/to/peft-folder"
          pick={{ kind: 'file', title: 'A GGUF LoRA adapter', extensions: ['gguf'] }}
          autoFocus
        />
        {desktop && (
          <button className="secondary" onClick={() => void pickFolder()}>
            PEFT folder…
          </button>
        )}
      </div>
      <div className="row">
        <label>
          Base model{' '}
          <select aria-label="Base model" value={baseModelId} onChange={(e) => setBaseModelId(e.target.value)}>
            <option value="">{looksPeft ? 'choose one (PEFT needs it)…' : 'none (check later)'}</option>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} ({m.summary.architecture}, {m.summary.fileType})
              </option>
            ))}
          </select>
        </label>
        <input aria-label="Adapter name" placeholder="name (default: the file's)" size={24} value={name} onChange={(e) => setName(e.target.value)} />
        <input aria-label="Adapter note" className="grow" placeholder="note (optional)" value={note} onChange={(e) => setNote(e.target.value)} />
        <button onClick={() => void submit()} disabled={imp.pending || !path.trim()}>
          {imp.pending ? 'Importing…' : 'Import'}
        </button>
        {onClose && (
          <button className="link" onClick={onClose}>
            Cancel
          </button>
        )}
      </div>
      <p className="muted hint">
        A PEFT folder is converted with its base model's architecture and head counts. With a base model, the adapter is checked against it now (tensor names
        and shapes); otherwise check it later.
      </p>
      {imp.error && (
        <div className="error-banner import-error" role="alert" data-testid="import-error">
          <span>{imp.error.message}</span>
          <button className="link" onClick={imp.clearError} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </div>
  );
}

function CheckPanel({
  adapter,
  models,
  onClose,
  onChecked,
}: {
  adapter: AdapterEntry;
  models: ModelEntry[];
  onClose: () => void;
  onChecked: (m: ModelEntry) => void;
}) {
  // Models of the adapter's architecture first: the others are refused anyway, with the reason.
  const sorted = [...models].sort((a, b) => Number(b.summary.architecture === adapter.arch) - Number(a.summary.architecture === adapter.arch));
  const [modelId, setModelId] = useState(String(adapter.base?.modelId ?? sorted[0]?.id ?? ''));
  const check = useAction('adapters.check');
  const model = models.find((m) => m.id === Number(modelId));
  return (
    <div className="panel" data-testid="check-adapter">
      <div className="row">
        <span>
          Check <strong>{adapter.name}</strong> ({adapter.arch}) against
        </span>
        <select aria-label="Check against" value={modelId} onChange={(e) => setModelId(e.target.value)}>
          {sorted.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} ({m.summary.architecture}, {m.summary.fileType})
            </option>
          ))}
        </select>
        <button
          disabled={!model || check.pending}
          onClick={() => void check.run({ id: adapter.id, modelId: Number(modelId) }).then((r) => r && model && onChecked(model))}
        >
          Check
        </button>
        <button className="link" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={check.error} onClose={check.clearError} />
    </div>
  );
}
