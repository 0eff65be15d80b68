import { Page } from '../../ui/components.js';

export const PLANNED: Record<string, { title: string; what: string; status: string }> = {
  quantize: {
    title: 'Quantize',
    what: 'Quantize a model to Q8_0, Q6_K, Q4_K_M and friends with llama.cpp, and see what each level costs in quality before you ship it.',
    status: 'Planned.',
  },
  evaluate: {
    title: 'Evaluate',
    what: 'Score student against teacher: quality, agreement, KL divergence, latency and memory, on your own data.',
    status: 'Planned.',
  },
};

export function PlannedPage({ room }: { room: string }) {
  const p = PLANNED[room];
  if (!p) {
    return (
      <Page title="Not found">
        <p>There is no page here. <a href="#/models">Go to Models</a>.</p>
      </Page>
    );
  }
  return (
    <Page title={p.title}>
      <div className="planned-card">
        <p className="planned-status">{p.status}</p>
        <p>{p.what}</p>
        <p className="muted">
          Available now: the <a href="#/models">model library</a>, the <a href="#/playground">Playground</a> and{' '}
          <a href="#/runs">Runs</a>.
        </p>
      </div>
    </Page>
  );
}
