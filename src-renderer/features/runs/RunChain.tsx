import type { ChainStep, RunChain } from '../../../src-shared/domain/chain.js';
import { ErrorBanner } from '../../ui/components.js';
import { useEffect, useRef } from 'react';
import { client } from '../../client.js';
import { useQuery } from '../../ui/useApi.js';
import './chain.css';

/** What a step is, in a word or two. */
const kindLabel = (s: ChainStep): string => (s.run ? s.run.kind : s.kind === 'file' ? 'folder / file' : s.kind);

/**
 * One step: what it is, its page, and for a run its status and "Run again from here". `from` are the steps it was made
 * from; those further left than the previous column are named ("also from"), as the arrows between columns cannot show them.
 */
function Step({ step, current, from }: { step: ChainStep; current: boolean; from: ChainStep[] }) {
  const far = from.filter((f) => f.depth < step.depth - 1);
  return (
    <li
      title={from.length ? `from ${from.map((f) => f.label).join(', ')}` : undefined}
      className={`chain-step chain-step-${step.kind}${current ? ' current' : ''}`}
      data-testid="chain-step"
      data-key={step.key}
      aria-current={current ? 'step' : undefined}
    >
      <span className="chain-kind">{kindLabel(step)}</span>
      {step.href && !current ? (
        <a href={step.href} className="chain-label">
          {step.label}
        </a>
      ) : (
        <span className="chain-label" title={step.key.replace(/^\w+:/, '')}>
          {step.label}
        </span>
      )}
      {far.length > 0 && <span className="chain-from">also from {far.map((f) => f.label).join(', ')}</span>}
      {step.run && (
        <span className="row chain-actions">
          {/* not a .badge: pages and tests read a run's own status from its badge */}
          <span className={`chain-status chain-status-${step.run.status}`}>{step.run.status}</span>
          {step.run.runAgain && (
            <button
              className="secondary small"
              onClick={() => (window.location.hash = step.run!.runAgain!)}
              title="Opens this room's form filled with this run's settings, its datasets at their latest version"
            >
              Run again from here
            </button>
          )}
        </span>
      )}
    </li>
  );
}

/** The steps by column (their depth), left to right. */
function columns(chain: RunChain): ChainStep[][] {
  const byDepth = new Map<number, ChainStep[]>();
  for (const s of chain.steps) byDepth.set(s.depth, [...(byDepth.get(s.depth) ?? []), s]);
  return [...byDepth.entries()].sort(([a], [b]) => a - b).map(([, steps]) => steps);
}

/** The chain through a run: what led to it and what was made from it, each step a link. */
export function RunChainView({ runId }: { runId: number }) {
  const chain = useQuery('runs.chain', { id: runId }, [], [runId]);
  // read again when a run's status changes (a step finished, a new run joined), not on every progress event
  const statuses = useRef(new Map<number, string>());
  const { refetch } = chain;
  useEffect(
    () =>
      client.on('runs.changed', (r) => {
        if (statuses.current.get(r.id) === r.status) return;
        statuses.current.set(r.id, r.status);
        refetch();
      }),
    [refetch],
  );
  if (chain.error) return <ErrorBanner error={chain.error} />;
  const c = chain.data;
  if (!c) return <p className="muted">Reading the chain…</p>;
  if (c.steps.length === 1) return <p className="muted">Nothing recorded leads to this run or was made from it yet.</p>;
  const byKey = new Map(c.steps.map((s) => [s.key, s]));
  const from = (key: string) => c.links.filter((l) => l.to === key).map((l) => byKey.get(l.from)!);
  return (
    <>
      <ol className="chain" data-testid="run-chain">
        {columns(c).map((steps) => (
          <li key={steps[0]!.depth} className="chain-column">
            <ul>
              {steps.map((s) => (
                <Step key={s.key} step={s} current={s.run?.id === runId} from={from(s.key)} />
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {c.truncated && <p className="muted">The chain goes on: only the steps nearest this run are shown. Open a step at either end to follow it.</p>}
    </>
  );
}
