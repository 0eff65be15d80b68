import { useMemo, useState } from 'react';
import type { BenchmarkRecord, ModelRole } from '../../../src-shared/domain/models.js';
import { ErrorBanner, Fields, Page, StatusBadge } from '../../ui/components.js';
import { MetricChart } from '../../ui/MetricChart.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { bytes, count, when } from '../../ui/format.js';
import { navigate } from '../../app/router.js';
import { RolePicker } from './RolePicker.js';
import { ModelGateCard } from './ModelGateCard.js';

export function ModelDetailPage({ id }: { id: number }) {
  const model = useQuery('models.get', { id }, ['models.changed'], [id]);
  const library = useQuery('models.list', {}, ['models.changed']);
  const update = useAction('models.update');
  const remove = useAction('models.remove');
  const bench = useAction('models.benchmark');
  const [confirming, setConfirming] = useState(false);
  const m = model.data;

  if (model.error) {
    return (
      <Page title="Model">
        <ErrorBanner error={model.error} />
        <a href="#/models">Back to the library</a>
      </Page>
    );
  }
  if (!m) return <Page title="Model">Loading…</Page>;
  const s = m.summary;
  const setRoles = (roles: ModelRole[]) => void update.run({ id, roles });
  const runBenchmark = async () => {
    const r = await bench.run({ id });
    if (r) navigate(`/runs/${r.runId}`);
  };
  return (
    <Page
      title={
        <>
          <a href="#/models" className="crumb">
            Models
          </a>{' '}
          / {m.name}
        </>
      }
      actions={
        <>
          <button onClick={() => navigate(`/playground/${id}`)} disabled={m.status === 'missing'}>
            Open in Playground
          </button>
          <button className="secondary" onClick={() => void runBenchmark()} disabled={m.status === 'missing' || bench.pending}>
            Benchmark
          </button>
          <button className="danger" onClick={() => setConfirming(true)}>
            Remove from library
          </button>
        </>
      }
    >
      {m.status === 'missing' && (
        <ErrorBanner error={{ message: `The file ${m.path} no longer exists. Add it again from its new place, or remove this entry.` }} />
      )}
      {m.status === 'changed' && (
        <p className="warn-text">The file changed since it was added (size or date differ); the figures below are from when it was read.</p>
      )}
      {confirming && (
        <div className="panel confirm">
          Remove <strong>{m.name}</strong> from the library? The file stays on disk at <code>{m.path}</code>.{' '}
          <button className="danger" onClick={() => void remove.run({ id }).then((removed) => removed && navigate('/models'))}>
            Remove
          </button>{' '}
          <button className="link" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
      <ErrorBanner error={update.error ?? remove.error ?? bench.error} />
      <div className="columns">
        <div className="card">
          <h2>Architecture</h2>
          <Fields
            rows={[
              ['Architecture', s.architecture],
              ['Name in file', s.name ?? '—'],
              ['Parameters', `${count(s.parameterCount)} (${s.parameterCount.toLocaleString()})`],
              ['Layers', s.blockCount ?? '—'],
              ['Attention heads', s.headCount ?? '—'],
              ['KV heads', s.headCountKv ?? '—'],
              ['Embedding size', s.embeddingLength ?? '—'],
              ['Feed-forward size', s.feedForwardLength ?? '—'],
              ['Context length', s.contextLength ?? '—'],
              ['Vocabulary', `${s.vocabSize ?? '—'} (${s.tokenizerModel ?? 'unknown'} tokenizer)`],
              ['Chat template', s.hasChatTemplate ? 'yes' : 'no — Playground uses completion mode'],
            ]}
          />
        </div>
        <div className="card">
          <h2>File</h2>
          <Fields
            rows={[
              ['Path', <code key="p">{m.path}</code>],
              ['Status', <StatusBadge key="s" status={m.status} />],
              ['Size', bytes(m.sizeBytes)],
              ['File type', s.fileType],
              [
                'Tensors',
                `${s.tensorCount} (${Object.entries(s.tensorTypes)
                  .map(([t, n]) => `${n} ${t}`)
                  .join(', ')})`,
              ],
              ['GGUF version', s.ggufVersion],
              ['Added', when(m.addedAt)],
            ]}
          />
          <h2>Roles and note</h2>
          <RolePicker value={m.roles} onChange={setRoles} />
          <NoteEditor key={m.note} saved={m.note} pending={update.pending} onSave={(note) => void update.run({ id, note })} />
        </div>
      </div>
      <ModelGateCard modelId={id} sourceBytes={(sid) => library.data?.find((x) => x.id === sid)?.sizeBytes ?? null} />
      <BenchmarkHistory id={id} />
    </Page>
  );
}

/** The model's finished benchmarks: a table, and a chart of the speeds once there are several. */
function BenchmarkHistory({ id }: { id: number }) {
  const history = useQuery('models.benchmarks', { id }, ['runs.changed'], [id]);
  const h = history.data;
  const json = JSON.stringify(h ?? []);
  const series = useMemo(() => {
    const rows = JSON.parse(json) as BenchmarkRecord[];
    return [
      { label: 'generation tokens/s', color: '#61afef', points: rows.map((r, i) => ({ x: i + 1, y: r.generateTokensPerSecond })) },
      { label: 'prompt tokens/s', color: '#98c379', points: rows.map((r, i) => ({ x: i + 1, y: r.promptTokensPerSecond })) },
    ];
  }, [json]);
  if (!h) return <ErrorBanner error={history.error} />;
  return (
    <div className="card" data-testid="benchmark-history">
      <h2>Benchmark history</h2>
      {h.length === 0 ? (
        <p className="muted">No benchmark yet: Benchmark measures prompt and generation speed on this machine.</p>
      ) : (
        <>
          <table className="table compact">
            <thead>
              <tr>
                <th>#</th>
                <th>Date</th>
                <th>Threads</th>
                <th>Generation</th>
                <th>Prompt</th>
                <th>Measured</th>
                <th>Run</th>
              </tr>
            </thead>
            <tbody>
              {h.map((r, i) => (
                <tr key={r.runId} data-testid="benchmark-row">
                  <td className="muted">{i + 1}</td>
                  <td>{when(r.at)}</td>
                  <td>{r.threads ?? '—'}</td>
                  <td className="mono">{r.generateTokensPerSecond.toFixed(1)} tokens/s</td>
                  <td className="mono">{r.promptTokensPerSecond.toFixed(1)} tokens/s</td>
                  <td className="muted">
                    pp{r.promptTokens} · tg{r.generateTokens} · {r.repetitions}×
                  </td>
                  <td>
                    <a href={`#/runs/${r.runId}`}>run {r.runId}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {h.length > 1 && <MetricChart series={series} xLabel="benchmark #" yLabel="tokens/s" height={200} />}
        </>
      )}
    </div>
  );
}

/** Remounted (key) when the saved note changes, so the draft starts from it. */
function NoteEditor({ saved, pending, onSave }: { saved: string; pending: boolean; onSave: (note: string) => void }) {
  const [note, setNote] = useState(saved);
  return (
    <>
      <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={3} placeholder="A note about this model" aria-label="Note" />
      <button className="secondary" disabled={note === saved || pending} onClick={() => onSave(note)}>
        Save note
      </button>
    </>
  );
}
