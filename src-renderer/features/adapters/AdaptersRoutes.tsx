import { PlannedPage } from '../planned/PlannedPage.js';
import { LibraryPage } from './LibraryPage.js';
import { CompareFormPage } from './CompareFormPage.js';
import { CompareRunPage } from './CompareRunPage.js';
import { SweepPage, SweepRunPage } from './SweepPage.js';
import { MergePage } from './MergePage.js';
import { PerplexityPage } from './PerplexityPage.js';

/**
 * `#/adapters` the library; `#/adapters/compare[/<runId>]`, `#/adapters/sweep[/<runId>]`, `#/adapters/perplexity`,
 * `#/adapters/merge`.
 */
export function AdaptersRoutes({ route }: { route: string[] }) {
  const [view, arg] = route;
  const runId = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : null;
  switch (view) {
    case undefined:
      return <LibraryPage />;
    case 'compare':
      return runId !== null ? <CompareRunPage key={runId} runId={runId} /> : <CompareFormPage />;
    case 'sweep':
      return runId !== null ? <SweepRunPage key={runId} runId={runId} /> : <SweepPage />;
    case 'perplexity':
      return <PerplexityPage />;
    case 'merge':
      return <MergePage />;
    default:
      return <PlannedPage room="unknown" />;
  }
}
