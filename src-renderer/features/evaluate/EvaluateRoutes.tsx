import { EvaluateComparePage } from './EvaluateComparePage.js';
import { EvaluatePage } from './EvaluatePage.js';
import { EvaluateRunPage } from './EvaluateRunPage.js';

const isId = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** The Evaluate room's pages: `#/evaluate`, `#/evaluate/again/<id>` (the form filled from a run), `#/evaluate/run/<id>`, `#/evaluate/compare/<a>/<b>`. */
export function EvaluateRoutes({ route }: { route: string[] }) {
  const [view, a, b] = route;
  if (view === 'run' && isId(a)) return <EvaluateRunPage key={a} runId={Number(a)} />;
  if (view === 'compare' && isId(a) && isId(b)) return <EvaluateComparePage key={`${a}/${b}`} a={Number(a)} b={Number(b)} />;
  if (view === 'again' && isId(a)) return <EvaluatePage key={`again-${a}`} againId={Number(a)} />;
  return <EvaluatePage />;
}
