import { formatMetric, timesSmaller } from '../../../src-shared/domain/quantize-answer.js';
import { Fields } from '../../ui/components.js';
import { bytes } from '../../ui/format.js';
import { useQuery } from '../../ui/useApi.js';

/**
 * A quantized model's quality gate (from the ladder run that made it): how far it is from its source and how fast it
 * runs. Nothing for a model no ladder made, or one made without a gate.
 */
export function ModelGateCard({ modelId, sourceBytes }: { modelId: number; sourceBytes: (id: number) => number | null }) {
  const q = useQuery('quantize.gateOf', { modelId }, ['runs.changed', 'models.changed'], [modelId]);
  const g = q.data;
  if (!g?.gate) return null;
  const src = sourceBytes(g.source.modelId);
  const f = g.gate;
  return (
    <div className="card" data-testid="model-gate">
      <h2>Quality gate</h2>
      <Fields
        rows={[
          [
            'Source',
            <a key="s" href={`#/models/${g.source.modelId}`}>
              {g.source.name}
            </a>,
          ],
          [
            'Type',
            <span key="t" className="mono">
              {g.type}
            </span>,
          ],
          ['Size', `${bytes(g.bytes)} · ${g.bpw.toFixed(2)} bits/weight${src ? ` · ${timesSmaller(src, g.bytes)} smaller` : ''}`],
          ['Mean KLD', `${formatMetric('kld', f.kld)} ± ${formatMetric('kld', f.kldStderr)}`],
          ['Same top token', `${formatMetric('sameTop', f.sameTop)} ± ${formatMetric('sameTop', f.sameTopStderr)}`],
          ['PPL ratio', `${f.pplRatio.toFixed(4)} ± ${f.pplRatioStderr.toFixed(4)} (PPL ${f.ppl.toFixed(3)} against ${f.pplBase.toFixed(3)})`],
          ['Generation', g.speed ? `${g.speed.genTokensPerSecond.toFixed(1)} tokens/s` : '—'],
          ['Scored on', `${f.sourceLabel} · ${f.chunks} chunks of ${f.contextSize} tokens`],
          [
            'Ladder',
            <a key="r" href={`#/quantize/${g.runId}`}>
              run {g.runId}
            </a>,
          ],
        ]}
      />
    </div>
  );
}
