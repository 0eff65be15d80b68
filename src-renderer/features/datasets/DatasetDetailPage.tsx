import { useCallback, useMemo, useState } from 'react';
import type { ExampleRow, ExamplesFilter } from '../../../src-shared/domain/datasets.js';
import { ErrorBanner, Notice, Page } from '../../ui/components.js';
import { useQuery } from '../../ui/useApi.js';
import { when } from '../../ui/format.js';
import { ExamplesTable } from './ExamplesTable.js';
import { ImportPanel } from './ImportPanel.js';
import { Conversation } from './Conversation.js';
import { BulkActions, DuplicatesTool, ExportTool, ScanTool, SplitTool, TokensTool, WorkingCopy } from './CurationPanels.js';

type Tri = 'any' | 'yes' | 'no';
const tri = (v: Tri): boolean | undefined => (v === 'any' ? undefined : v === 'yes');

/** A dataset: browse and search a version, curate the working copy, split, dedupe, scan, export. */
export function DatasetDetailPage({ name, version }: { name: string; version: number | null }) {
  const [revision, setRevision] = useState(0);
  const detail = useQuery(
    'datasets.get',
    version === null ? { name, previewLimit: 0 } : { name, version, previewLimit: 0 },
    ['runs.changed'],
    [name, version, revision],
  );
  const [open, setOpen] = useState<ExampleRow | null>(null);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [reference, setReference] = useState<Tri>('any');
  const [flagged, setFlagged] = useState<string>('any'); // any | yes | no | flag:<reason>
  const [dups, setDups] = useState<Tri>('any');
  const [split, setSplit] = useState<'' | 'train' | 'validation' | 'test' | 'none'>('');
  const [tag, setTag] = useState('');
  const [tokens, setTokens] = useState({ model: '', min: '', max: '' });
  const models = useQuery('models.list', {}, ['models.changed']);
  const [matching, setMatching] = useState<{
    total: number;
    exact: boolean;
  } | null>(null);
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [source, setSource] = useState('');

  const filter = useMemo<ExamplesFilter>(() => {
    const f: ExamplesFilter = {};
    if (applied.trim()) f.search = applied.trim();
    if (tri(reference) !== undefined) f.hasReference = tri(reference);
    if (flagged.startsWith('flag:')) f.flag = flagged.slice(5);
    else if (tri(flagged as Tri) !== undefined) f.flagged = tri(flagged as Tri);
    if (tri(dups) !== undefined) f.duplicates = tri(dups);
    if (split) f.split = split;
    if (source !== '') f.source = Number(source);
    if (tag) f.tag = tag;
    if (tokens.model) {
      f.tokenizerModel = Number(tokens.model);
      if (tokens.min !== '') f.minTokens = Number(tokens.min);
      if (tokens.max !== '') f.maxTokens = Number(tokens.max);
    }
    return f;
  }, [applied, reference, flagged, dups, split, tag, tokens, source]);
  const onTotal = useCallback((total: number, exact: boolean) => setMatching({ total, exact }), []);
  const changed = useCallback((label?: string) => {
    setRevision((r) => r + 1);
    setSelected(new Set());
    setOpen(null);
    if (label) setNotice(label);
  }, []);
  const toggle = useCallback(
    (p: number) =>
      setSelected((prev) => {
        const next = new Set(prev);
        if (next.has(p)) next.delete(p);
        else next.add(p);
        return next;
      }),
    [],
  );
  const d = detail.data;
  const filtered = Object.keys(filter).length > 0;
  const matchingText = matching ? `${matching.total.toLocaleString()}${matching.exact ? '' : '+'}` : '…';
  const viewed = d?.version.number;
  return (
    <Page
      title={
        <>
          <a href="#/datasets" className="crumb">
            Datasets
          </a>{' '}
          / {name}
          {d ? `@${d.version.number}` : ''}
          {d?.version.state === 'draft' && <span className="badge badge-running"> working copy</span>}
        </>
      }
      actions={
        d && (
          <>
            <button className="secondary" onClick={() => setAdding(!adding)}>
              Add file…
            </button>
            <select
              aria-label="Version"
              value={String(d.version.number)}
              onChange={(e) => (location.hash = `#/datasets/${encodeURIComponent(name)}@${e.target.value}`)}
            >
              {d.draft && <option value={d.draft.number}>working copy ({d.draft.number})</option>}
              {[...d.versions].reverse().map((v) => (
                <option key={v.id} value={v.number}>
                  version {v.number}: {v.message.slice(0, 60)}
                </option>
              ))}
            </select>
          </>
        )
      }
    >
      <ErrorBanner error={detail.error} />
      {adding && <ImportPanel appendTo={name} onClose={() => setAdding(false)} />}
      <Notice text={notice} onClose={() => setNotice(null)} />
      {d && (
        <>
          <p className="muted">
            {d.version.exampleCount.toLocaleString()} examples · {d.version.message}
            {d.version.createdAt && <> · {when(d.version.createdAt)}</>}
            {d.version.runId !== null && (
              <>
                {' '}
                · made by <a href={`#/runs/${d.version.runId}`}>run {d.version.runId}</a>
              </>
            )}
            {d.versions.length > 1 || d.draft ? (
              <>
                {' '}
                · <a href={`#/datasets/${encodeURIComponent(name)}/diff/${Math.max(1, (viewed ?? 2) - 1)}..${viewed}`}>compare with the previous version</a>
              </>
            ) : null}
          </p>
          <WorkingCopy d={d} onChanged={changed} />
          <div className="row filters">
            <input
              className="grow"
              placeholder="Search words (all must appear)…"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              onKeyDown={(e) => e.key === 'Enter' && setApplied(search)}
              aria-label="Search examples"
            />
            <button className="secondary" onClick={() => setApplied(search)}>
              Search
            </button>
            <select aria-label="Split" value={split} onChange={(e) => setSplit(e.target.value as typeof split)}>
              <option value="">any split</option>
              <option value="train">train</option>
              <option value="validation">validation</option>
              <option value="test">test</option>
              <option value="none">no split</option>
            </select>
            {d.sources.length > 1 && (
              <select aria-label="Source file" value={source} onChange={(e) => setSource(e.target.value)}>
                <option value="">any file</option>
                {d.sources.map((s) => (
                  <option key={s.idx} value={s.idx}>
                    {s.file.split(/[\\/]/).pop()} ({s.examples})
                  </option>
                ))}
              </select>
            )}
            <select aria-label="Tag filter" value={tag} onChange={(e) => setTag(e.target.value)}>
              <option value="">any tag</option>
              {d.tags.map((t) => (
                <option key={t.tag} value={t.tag}>
                  #{t.tag} ({t.count})
                </option>
              ))}
            </select>
            <select aria-label="Reference answer" value={reference} onChange={(e) => setReference(e.target.value as Tri)}>
              <option value="any">answer: any</option>
              <option value="yes">has an answer</option>
              <option value="no">no answer</option>
            </select>
            <select aria-label="Flagged" value={flagged} onChange={(e) => setFlagged(e.target.value)}>
              <option value="any">flags: any</option>
              <option value="yes">flagged</option>
              <option value="no">not flagged</option>
              {d.flags.map((f) => (
                <option key={f.flag} value={`flag:${f.flag}`}>
                  ⚑ {f.flag} ({f.count})
                </option>
              ))}
            </select>
            <select aria-label="Duplicates" value={dups} onChange={(e) => setDups(e.target.value as Tri)}>
              <option value="any">duplicates: any</option>
              <option value="yes">in a cluster</option>
              <option value="no">unique</option>
            </select>
            <select aria-label="Length tokenizer" value={tokens.model} onChange={(e) => setTokens({ ...tokens, model: e.target.value })}>
              <option value="">length: any</option>
              {models.data?.map((m) => (
                <option key={m.id} value={m.id}>
                  tokens of {m.name}
                </option>
              ))}
            </select>
            {tokens.model && (
              <>
                <input
                  aria-label="Minimum tokens"
                  placeholder="min"
                  size={5}
                  value={tokens.min}
                  onChange={(e) => setTokens({ ...tokens, min: e.target.value })}
                />
                <input
                  aria-label="Maximum tokens"
                  placeholder="max"
                  size={5}
                  value={tokens.max}
                  onChange={(e) => setTokens({ ...tokens, max: e.target.value })}
                />
              </>
            )}
            {matching !== null && filtered && (
              <span className="muted" data-testid="matching-count">
                {matchingText} matching
              </span>
            )}
          </div>
          <BulkActions name={name} selected={selected} filter={filter} matching={matchingText} onDone={changed} />
          <div className="browse">
            <ExamplesTable
              key={`${JSON.stringify(filter)}|${revision}|${d.version.number}`}
              name={name}
              version={d.version.number}
              filter={filter}
              selected={selected}
              onToggle={toggle}
              onOpen={setOpen}
              onTotal={onTotal}
            />
            {open && <Conversation key={open.position} name={name} row={open} onClose={() => setOpen(null)} onChanged={() => changed('Example edited')} />}
          </div>
          <div className="tools">
            <SplitTool d={d} onChanged={changed} />
            <DuplicatesTool d={d} onChanged={changed} />
            <ScanTool d={d} onChanged={changed} />
            <TokensTool d={d} onChanged={changed} />
            <ExportTool d={d} />
          </div>
        </>
      )}
    </Page>
  );
}
