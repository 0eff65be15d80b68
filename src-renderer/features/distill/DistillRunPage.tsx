import { useEffect, useState } from 'react';
import { client } from '../../client.js';
import type { DistillStreamEvent } from '../../../src-shared/domain/distill.js';
import { ErrorBanner, Notice, Page } from '../../ui/components.js';
import { RunCrumbs, RunProgress } from '../../ui/RunHeader.js';
import { useAction, useQuery } from '../../ui/useApi.js';
import { navigate } from '../../app/router.js';
import { useRunControls } from '../../ui/useRunControls.js';
import { FleetTable } from './FleetTable.js';

/** The answers a run is writing, with their text so far (from `distill.stream` events); empty when none. */
function useInFlight(runId: number, running: boolean): DistillStreamEvent['inFlight'] {
  const [last, setLast] = useState<DistillStreamEvent | null>(null);
  useEffect(() => client.on('distill.stream', (e) => e.runId === runId && setLast(e)), [runId]);
  return running && last?.runId === runId ? last.inFlight : [];
}

/** One distillation run: progress, and the answers as they arrive, beside their prompts. */
export function DistillRunPage({ runId }: { runId: number }) {
  const run = useQuery('runs.get', { id: runId }, ['runs.changed']);
  const [only, setOnly] = useState<'' | 'included' | 'rejected'>('');
  const answers = useQuery('distill.answers', { runId, limit: 200, ...(only ? { only } : {}) }, ['runs.changed'], [only]);
  const include = useAction('distill.include');
  const exclude = useAction('distill.exclude');
  const [included, setIncluded] = useState<string | null>(null);
  const r = run.data;
  const controls = useRunControls(runId, r?.status);
  const a = answers.data;
  const out = r?.lineage.find((l) => l.direction === 'output' && l.kind === 'dataset');
  const inFlight = useInFlight(runId, r?.status === 'running');
  return (
    <Page
      title={<RunCrumbs href="#/distill" label="Distill" runId={runId} />}
      actions={
        <>
          {controls.buttons}
          {r && (
            <button className="secondary" onClick={() => navigate(`/distill/again/${runId}`)} title="Opens the form filled with this run's settings">
              Run again with these settings
            </button>
          )}
        </>
      }
    >
      <ErrorBanner error={run.error ?? controls.error ?? include.error ?? exclude.error} />
      <Notice text={included} onClose={() => setIncluded(null)} />
      {r && (
        <RunProgress run={r} testId="distill-progress">
          {r.error && (
            <p className="error-text" data-testid="distill-error">
              {r.error}
            </p>
          )}
          {out && (
            <p>
              Training set: <a href={`#/datasets/${encodeURIComponent(out.label)}`}>{out.label}</a>
            </p>
          )}
          <FleetTable metrics={r.metrics} />
        </RunProgress>
      )}
      {inFlight.length > 0 && (
        <table className="table answers" data-testid="distill-in-flight">
          <thead>
            <tr>
              <th>#</th>
              <th>Being written</th>
              <th>Tokens</th>
            </tr>
          </thead>
          <tbody>
            {inFlight.map((x) => (
              <tr key={`${x.position}-${x.sample}`}>
                <td className="muted">
                  {x.position}
                  {x.sample ? `.${x.sample}` : ''}
                </td>
                <td className="pre streaming-text">{x.text}</td>
                <td className="muted">{x.tokens}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {a && (
        <>
          <div className="row">
            <button className={only === '' ? '' : 'secondary'} onClick={() => setOnly('')}>
              {a.total} answers
            </button>
            <button className={only === 'included' ? '' : 'secondary'} onClick={() => setOnly('included')}>
              {a.included} kept
            </button>
            <button className={only === 'rejected' ? '' : 'secondary'} onClick={() => setOnly('rejected')}>
              {a.rejected} rejected
            </button>
          </div>
          <table className="table answers" data-testid="distill-answers">
            <thead>
              <tr>
                <th>#</th>
                <th>Prompt</th>
                <th>Answer</th>
                <th>Judge</th>
                <th>Tokens</th>
              </tr>
            </thead>
            <tbody>
              {a.rows.map((x) => (
                <tr key={`${x.position}-${x.sample}`} className={x.rejected ? 'rejected' : ''}>
                  <td className="muted">
                    {x.position}
                    {x.sample ? `.${x.sample}` : ''}
                  </td>
                  <td className="pre">{x.prompt.at(-1)?.content}</td>
                  <td className="pre">
                    {x.answer}
                    {x.rejected && (
                      <div className="error-text">
                        rejected: {x.rejected}{' '}
                        {!x.included && (
                          <button
                            className="link"
                            onClick={() =>
                              void include.run({ runId, position: x.position, sample: x.sample }).then((res) => {
                                if (!res) return;
                                setIncluded(
                                  res.addedToWorkingCopy
                                    ? `${res.label}: added to the working copy of ${res.outName}; commit it there`
                                    : `${res.label}: it will be in ${res.outName}`,
                                );
                                answers.refetch();
                              })
                            }
                          >
                            include anyway
                          </button>
                        )}
                      </div>
                    )}
                    {x.included && (
                      <div>
                        <button
                          className="link"
                          onClick={() =>
                            void exclude.run({ runId, position: x.position, sample: x.sample }).then((res) => {
                              if (!res) return;
                              setIncluded(
                                res.removedFromWorkingCopy
                                  ? `${res.label}: removed from the working copy of ${res.outName}; commit it there`
                                  : `${res.label}: it will not be in ${res.outName}`,
                              );
                              answers.refetch();
                            })
                          }
                        >
                          exclude
                        </button>
                      </div>
                    )}
                  </td>
                  <td className="muted" title={x.judgeReason ?? undefined}>
                    {x.judgeScore !== null ? `${x.judgeScore}/10` : '–'}
                  </td>
                  <td className="muted">
                    {x.completionTokens ?? '–'} · {(x.ms / 1000).toFixed(1)} s
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Page>
  );
}
