import type { ReactNode } from 'react';
import type { RunDetail } from '../../src-shared/domain/runs.js';
import { ProgressBar, StatusBadge } from './components.js';

/** A run page's title: the room's page as a crumb, then "/ run <id>". */
export function RunCrumbs({ href, label, runId }: { href: string; label: string; runId: number }) {
  return (
    <>
      <a href={href} className="crumb">
        {label}
      </a>{' '}
      / run {runId}
    </>
  );
}

/** A run page's status card: status and title, the progress bar, then what the page adds (settings, error, outputs). */
export function RunProgress({ run, testId, children }: { run: RunDetail; testId: string; children?: ReactNode }) {
  return (
    <div className="card" data-testid={testId}>
      <div className="row">
        <StatusBadge status={run.status} /> <strong>{run.title}</strong>
      </div>
      <ProgressBar done={run.progress.done} total={run.progress.total} label={run.progress.message || undefined} />
      {children}
    </div>
  );
}
