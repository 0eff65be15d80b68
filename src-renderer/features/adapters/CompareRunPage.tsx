import { useState } from 'react';
import { ErrorBanner } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { AdaptersPage } from './parts.js';
import { COLORS, PromptRow } from './PromptRow.js';

/** A comparison's answers, prompt by prompt, as they arrive; the user's verdicts and their tally. */
export function CompareRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed'], [runId]);
  const results = useQuery('adapters.compareResults', { runId }, ['runs.changed'], [runId]);
  const vote = useAction('adapters.vote');
  const [showRemoved, setShowRemoved] = useState(false);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const c = results.data;
  const refetch = results.refetch;
  const mark = (prompt: number, winner: number | null) => void vote.run({ runId, prompt, winner }).then((t) => t && refetch());
  const config = r?.kind === 'adapters.compare' ? r.config : null;
  const ties = c?.prompts.filter((p) => p.winner === -1).length ?? 0;
  const marked = c?.prompts.filter((p) => p.winner !== null).length ?? 0;
  return (
    <AdaptersPage
      tab="compare"
      title={<RunCrumbs href="#/adapters/compare" label="Compare" runId={runId} />}
      actions={
        r && (
          <>
            {controls.buttons}
            <a href={`#/runs/${runId}`}>run details</a>
          </>
        )
      }
    >
      <ErrorBanner error={run.error ?? results.error ?? controls.error ?? vote.error} />
      {r && (
        <RunProgress run={r} testId="compare-progress">
          {config?.generation && (
            <p className="muted">
              {config.mode} · temperature {config.generation.temperature} · max {config.generation.maxTokens} tokens · seed {config.generation.seed ?? 'random'}{' '}
              · {config.source}
            </p>
          )}
          {r.error && <p className="error-text">{r.error}</p>}
        </RunProgress>
      )}
      {c && (
        <>
          <div className="compare-summary">
            <div className="card tally" data-testid="compare-tally">
              <h2>Wins</h2>
              <div className="bars">
                {c.variants.map((v) => (
                  <div key={v.index} className="bar-row" data-testid={`tally-${v.index}`}>
                    <span className="bar-label ellipsis" title={v.label}>
                      <span className="variant-index" style={{ background: COLORS[v.index % COLORS.length] }}>
                        {String.fromCharCode(65 + v.index)}
                      </span>{' '}
                      {v.label}
                    </span>
                    <span className="bar-track">
                      <span
                        className="bar"
                        style={{ width: `${marked ? (100 * c.tally[v.index]!) / marked : 0}%`, background: COLORS[v.index % COLORS.length] }}
                      />
                    </span>
                    <span className="bar-value">{c.tally[v.index]}</span>
                  </div>
                ))}
                <div className="bar-row muted">
                  <span className="bar-label">ties</span>
                  <span className="bar-track">
                    <span className="bar" style={{ width: `${marked ? (100 * ties) / marked : 0}%`, background: 'var(--line)' }} />
                  </span>
                  <span className="bar-value">{ties}</span>
                </div>
              </div>
              <p className="muted hint">
                {marked} of {c.prompts.length} prompts marked
              </p>
            </div>
            <div className="card legend">
              <h2>Differences</h2>
              <p className="muted">
                Words of an answer that are not in variant A's answer are <mark className="diff-add">highlighted</mark>.
              </p>
              <label>
                <input type="checkbox" checked={showRemoved} onChange={(e) => setShowRemoved(e.target.checked)} /> also show A's words an answer lacks (
                <span className="diff-rem">struck out</span>)
              </label>
            </div>
          </div>
          {c.prompts.map((p) => (
            <PromptRow
              key={p.index}
              p={p}
              variants={c.variants}
              showRemoved={showRemoved}
              onVote={mark}
              live={!r || r.status === 'running' || r.status === 'queued'}
            />
          ))}
        </>
      )}
    </AdaptersPage>
  );
}
