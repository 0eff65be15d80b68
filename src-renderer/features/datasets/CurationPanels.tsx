import { useState } from 'react';
import type { CurationAction, DatasetDetail, ExamplesFilter, Selection } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner } from '../../ui/components.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { PathField } from '../../ui/PathField.js';
import { RunOutcome } from './RunOutcome.js';
import { WriteErrorBanner } from '../../ui/ReplaceBanner.js';

/** The working copy: its operations (the undo stack), undo, commit with a message, discard. */
export function WorkingCopy({ d, onChanged }: { d: DatasetDetail; onChanged: (label?: string) => void }) {
  const [message, setMessage] = useState('');
  const undo = useAction('datasets.undo');
  const commit = useAction('datasets.commit');
  const discard = useAction('datasets.discard');
  const draft = d.draft;
  if (!draft || draft.operations.length === 0) {
    return <p className="muted">No uncommitted changes. Tag, flag, delete, edit, split or dedupe to start a working copy.</p>;
  }
  return (
    <div className="card working-copy" data-testid="working-copy">
      <div className="row">
        <strong>
          Working copy → version {draft.number} (from {draft.basedOn}) · {draft.exampleCount.toLocaleString()} examples
        </strong>
      </div>
      <ol className="ops">
        {draft.operations.map((o) => (
          <li key={o.id}>
            {o.label} <span className="muted">({o.affected.toLocaleString()})</span>
          </li>
        ))}
      </ol>
      <div className="row">
        <button className="secondary" onClick={() => void undo.run({ name: d.name }).then((r) => r && onChanged(r.label))} disabled={undo.pending}>
          Undo last
        </button>
        <input
          className="grow"
          placeholder="What changed (commit message)…"
          aria-label="Commit message"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
        />
        <button
          onClick={() =>
            void commit.run({ name: d.name, message }).then((r) => {
              if (!r) return;
              setMessage('');
              onChanged(`Committed version ${r.number}`);
            })
          }
          disabled={commit.pending || !message.trim()}
        >
          Commit version {draft.number}
        </button>
        <button className="link danger" onClick={() => void discard.run({ name: d.name }).then((r) => r && onChanged('Working copy discarded'))}>
          Discard
        </button>
      </div>
      <ErrorBanner error={undo.error ?? commit.error ?? discard.error} />
    </div>
  );
}

/** Actions on the checked rows, or on everything the filter matches. */
export function BulkActions({
  name,
  selected,
  filter,
  matching,
  onDone,
}: {
  name: string;
  selected: ReadonlySet<number>;
  filter: ExamplesFilter;
  matching: string;
  onDone: (label: string) => void;
}) {
  const [tag, setTag] = useState('');
  /** A delete of everything the filter matches waits for this confirmation, which names the count. */
  const [confirmDelete, setConfirmDelete] = useState(false);
  const curate = useAction('datasets.curate');
  const selection: Selection = selected.size ? { positions: [...selected] } : { filter };
  const target = selected.size ? `${selected.size} selected` : `all ${matching} matching`;
  const act = async (action: CurationAction) => {
    setConfirmDelete(false);
    const r = await curate.run({ name, selection, action });
    if (r)
      onDone(
        `${r.label}: ${r.affected.toLocaleString()} changed${r.skipped ? `, ${r.skipped.toLocaleString()} left alone (frozen test split or unchanged)` : ''}`,
      );
  };
  return (
    <div className="row bulk" data-testid="bulk-actions">
      <span className="muted">Apply to {target}:</span>
      <input placeholder="tag" aria-label="Tag" value={tag} onChange={(e) => setTag(e.target.value)} size={12} />
      <button className="secondary" disabled={!tag.trim()} onClick={() => void act({ kind: 'tag', tag: tag.trim() })}>
        Tag
      </button>
      <button className="secondary" disabled={!tag.trim()} onClick={() => void act({ kind: 'untag', tag: tag.trim() })}>
        Untag
      </button>
      <button className="secondary" onClick={() => void act({ kind: 'flag' })}>
        Flag
      </button>
      <button className="secondary" onClick={() => void act({ kind: 'unflag' })}>
        Clear flags
      </button>
      <button className="secondary danger" onClick={() => (selected.size ? void act({ kind: 'delete' }) : setConfirmDelete(true))}>
        Delete
      </button>
      {confirmDelete && (
        <div className="panel confirm" role="alertdialog" aria-label="Confirm delete" data-testid="confirm-delete">
          Delete <strong>all {matching} matching</strong> example{matching === '1' ? '' : 's'} from the working copy? Undo last brings them back until you
          commit.{' '}
          <button className="danger" onClick={() => void act({ kind: 'delete' })}>
            Delete {matching}
          </button>{' '}
          <button className="link" onClick={() => setConfirmDelete(false)}>
            Keep them
          </button>
        </div>
      )}
      <ErrorBanner error={curate.error} onClose={curate.clearError} />
    </div>
  );
}

/** The run a panel started: followed there until it ends, then what it found or made. */
const RunLink = ({ runId, onSucceeded }: { runId: number | null; onSucceeded?: () => void }) =>
  runId === null ? null : <RunOutcome key={runId} runId={runId} onSucceeded={onSucceeded} />;

/** Seeded train/validation/test split, and the frozen test switch. */
export function SplitTool({ d, onChanged }: { d: DatasetDetail; onChanged: (label: string) => void }) {
  const [ratios, setRatios] = useState({
    train: '0.8',
    validation: '0.1',
    test: '0.1',
  });
  const [seed, setSeed] = useState('42');
  const [stratify, setStratify] = useState(false);
  /** Ticked while there is no test split yet: the next Split freezes the test split it makes. */
  const [freezeLater, setFreezeLater] = useState(false);
  const split = useAction('datasets.split');
  const freeze = useAction('datasets.freezeTest');
  const hasTest = d.splits.test > 0;
  // Read only while there is no test split: once Split has made one, the dataset's own flag shows (no flicker between).
  const freezeAfterSplit = freezeLater && !hasTest;
  const onFreeze = (frozen: boolean) => {
    setFreezeLater(!hasTest && !d.testFrozen && frozen);
    if (!hasTest && !d.testFrozen) return;
    void freeze.run({ name: d.name, frozen }).then((r) => r && onChanged(r.testFrozen ? 'Test split frozen' : 'Test split unfrozen'));
  };
  return (
    <div className="tool" data-testid="split-tool">
      <h3>Splits</h3>
      <p className="muted">
        train {d.splits.train.toLocaleString()} · validation {d.splits.validation.toLocaleString()} · test {d.splits.test.toLocaleString()} · none{' '}
        {d.splits.none.toLocaleString()}
      </p>
      <div className="row">
        {(['train', 'validation', 'test'] as const).map((k) => (
          <label key={k}>
            {k} <input aria-label={`${k} ratio`} size={4} value={ratios[k]} onChange={(e) => setRatios({ ...ratios, [k]: e.target.value })} />
          </label>
        ))}
        <label>
          seed <input aria-label="Seed" size={6} value={seed} onChange={(e) => setSeed(e.target.value)} />
        </label>
        <label>
          <input type="checkbox" checked={stratify} onChange={(e) => setStratify(e.target.checked)} /> stratify by tags
        </label>
        <button
          className="secondary"
          onClick={() =>
            void split
              .run({
                name: d.name,
                ratios: {
                  train: Number(ratios.train),
                  validation: Number(ratios.validation),
                  test: Number(ratios.test),
                },
                seed: Number(seed),
                stratify,
                freezeTest: freezeAfterSplit,
              })
              .then((r) => r && onChanged(`${r.label}: ${r.affected.toLocaleString()} changed${freezeAfterSplit ? '; test split frozen' : ''}`))
          }
        >
          Split
        </button>
      </div>
      <label>
        <input type="checkbox" checked={d.testFrozen || freezeAfterSplit} onChange={(e) => onFreeze(e.target.checked)} /> Freeze the test split (curation never
        moves examples into or out of it)
        {freezeAfterSplit && <span className="muted"> · frozen as soon as Split has made it</span>}
      </label>
      <ErrorBanner error={split.error ?? freeze.error} />
    </div>
  );
}

/** Exact or near-duplicate detection (a run), then keep one per cluster. */
export function DuplicatesTool({ d, onChanged }: { d: DatasetDetail; onChanged: (label?: string) => void }) {
  const [near, setNear] = useState('0.85');
  const [mode, setMode] = useState<'exact' | 'near'>('near');
  const [runId, setRunId] = useState<number | null>(null);
  const start = useAction('datasets.dedupe');
  const resolve = useAction('datasets.resolveDuplicates');
  return (
    <div className="tool" data-testid="duplicates-tool">
      <h3>Duplicates</h3>
      <div className="row">
        <select aria-label="Duplicate mode" value={mode} onChange={(e) => setMode(e.target.value as 'exact' | 'near')}>
          <option value="exact">exact (normalized text)</option>
          <option value="near">near (MinHash + LSH)</option>
        </select>
        {mode === 'near' && (
          <label>
            similarity ≥ <input aria-label="Similarity threshold" size={4} value={near} onChange={(e) => setNear(e.target.value)} />
          </label>
        )}
        <button
          className="secondary"
          onClick={() =>
            void start
              .run({
                name: d.name,
                ...(mode === 'near' ? { near: Number(near) } : {}),
              })
              .then((r) => r && setRunId(r.runId))
          }
        >
          Find
        </button>
        <RunLink runId={runId} onSucceeded={() => onChanged()} />
        <a href={`#/datasets/${encodeURIComponent(d.name)}/duplicates`}>Review clusters</a>
        <button className="secondary" onClick={() => void resolve.run({ name: d.name }).then((r) => r && onChanged(`${r.label}`))}>
          Keep one per cluster
        </button>
      </div>
      <ErrorBanner error={start.error ?? resolve.error} />
    </div>
  );
}

/** Quality checks and PII scan (a run) that flag, or redact. */
export function ScanTool({ d, onChanged }: { d: DatasetDetail; onChanged: () => void }) {
  const [quality, setQuality] = useState(true);
  const [pii, setPii] = useState<'off' | 'flag' | 'redact'>('flag');
  const [runId, setRunId] = useState<number | null>(null);
  const start = useAction('datasets.scan');
  return (
    <div className="tool" data-testid="scan-tool">
      <h3>Quality and PII</h3>
      <div className="row">
        <label>
          <input type="checkbox" checked={quality} onChange={(e) => setQuality(e.target.checked)} /> quality checks
        </label>
        <select aria-label="PII" value={pii} onChange={(e) => setPii(e.target.value as 'off' | 'flag' | 'redact')}>
          <option value="off">no PII scan</option>
          <option value="flag">PII: flag</option>
          <option value="redact">PII: flag and redact</option>
        </select>
        <button className="secondary" onClick={() => void start.run({ name: d.name, quality, pii }).then((r) => r && setRunId(r.runId))}>
          Scan
        </button>
        <RunLink runId={runId} onSucceeded={onChanged} />
      </div>
      <ErrorBanner error={start.error} />
    </div>
  );
}

/** Token counts with a model's tokenizer (a run), for the length filter. */
export function TokensTool({ d, onChanged }: { d: DatasetDetail; onChanged: () => void }) {
  const models = useQuery('models.list', {}, ['models.changed']);
  const [model, setModel] = useState('');
  const [runId, setRunId] = useState<number | null>(null);
  const start = useAction('datasets.countTokens');
  return (
    <div className="tool">
      <h3>Length in tokens</h3>
      <div className="row">
        <select aria-label="Tokenizer model" value={model} onChange={(e) => setModel(e.target.value)}>
          <option value="">choose a model…</option>
          {models.data?.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
        <button
          className="secondary"
          disabled={!model}
          onClick={() => void start.run({ name: d.name, modelId: Number(model) }).then((r) => r && setRunId(r.runId))}
        >
          Count tokens
        </button>
        <RunLink runId={runId} onSucceeded={onChanged} />
      </div>
      <ErrorBanner error={start.error} />
    </div>
  );
}

/** Export a committed version (a run): JSONL or Parquet, all or one split. */
export function ExportTool({ d }: { d: DatasetDetail }) {
  const [format, setFormat] = useState<'openai' | 'sharegpt' | 'alpaca'>('openai');
  const [container, setContainer] = useState<'jsonl' | 'parquet'>('jsonl');
  const [split, setSplit] = useState<'all' | 'each' | 'train' | 'validation' | 'test'>('all');
  const [out, setOut] = useState('');
  const [runId, setRunId] = useState<number | null>(null);
  const start = useAction('datasets.export');
  const version = d.version.state === 'committed' ? d.version.number : d.latest.number;
  const go = (replace: boolean) => void start.run({ name: d.name, version, format, container, split, out, replace }).then((r) => r && setRunId(r.runId));
  return (
    <div className="tool" data-testid="export-tool">
      <h3>
        Export {d.name}@{version}
      </h3>
      <div className="row">
        <select aria-label="Export format" value={format} onChange={(e) => setFormat(e.target.value as typeof format)}>
          <option value="openai">OpenAI chat</option>
          <option value="sharegpt">ShareGPT</option>
          <option value="alpaca">Alpaca</option>
        </select>
        <select aria-label="File type" value={container} onChange={(e) => setContainer(e.target.value as typeof container)}>
          <option value="jsonl">JSONL</option>
          <option value="parquet">Parquet</option>
        </select>
        <select aria-label="Export split" value={split} onChange={(e) => setSplit(e.target.value as typeof split)}>
          <option value="all">all examples, one file</option>
          <option value="each">one file per split</option>
          <option value="train">train only</option>
          <option value="validation">validation only</option>
          <option value="test">test only</option>
        </select>
      </div>
      <div className="row">
        <PathField
          value={out}
          onChange={(p) => setOut(p.endsWith(`.${container}`) || p === '' || out.startsWith(p) ? p : `${p.replace(/\/$/, '')}/${d.name}.${container}`)}
          placeholder={`/path/to/${d.name}.${container}`}
          label="Export file"
          pick={{ kind: 'folder', title: 'Export into folder' }}
        />
      </div>
      {split === 'each' && (
        <p className="muted">
          One file per split: the split's name goes before the extension ({d.name}.train.{container}…).
        </p>
      )}
      <div className="row">
        <button className="secondary" disabled={!out.trim()} onClick={() => go(false)}>
          Export
        </button>
        <RunLink runId={runId} />
      </div>
      <WriteErrorBanner error={start.error} onClose={start.clearError} onReplace={() => go(true)} />
    </div>
  );
}
