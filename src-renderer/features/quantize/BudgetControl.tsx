import { useState } from 'react';
import type { Budget, BudgetMetric } from '../../../src-shared/domain/quantize.js';
import { BUDGET_METRICS, budgetMeta } from '../../../src-shared/domain/quantize-answer.js';
import { parseNumber } from '../../ui/forms.js';

const KEY = 'distillery.quantize.budget';

function stored(key: string): Budget | null {
  try {
    const v = JSON.parse(localStorage.getItem(key) ?? 'null') as Budget | null;
    return v && BUDGET_METRICS.some((m) => m.metric === v.metric) && Number.isFinite(v.value) ? v : null;
  } catch {
    return null;
  }
}

/** Same top is typed in percent, the other metrics as they are. */
const shown = (b: Budget) => String(b.metric === 'sameTop' ? Number((100 * b.value).toPrecision(6)) : b.value);

/**
 * The budget of a ladder's page, remembered per run (localStorage), a new run starting from the last one set anywhere.
 * `budget` is null while the typed value is not a number in range.
 */
export function useBudget(runId: number) {
  const [saved, setSaved] = useState<Budget>(() => stored(`${KEY}.${runId}`) ?? stored(KEY) ?? { metric: 'kld', value: 0.05 });
  const [text, setText] = useState(() => shown(saved));
  const parse = (metric: BudgetMetric, s: string): Budget | null => {
    const v = metric === 'sameTop' ? parseNumber(s, { min: 0, max: 100 }) : parseNumber(s, { min: 0 });
    return v === null ? null : { metric, value: metric === 'sameTop' ? v / 100 : v };
  };
  const save = (b: Budget) => {
    setSaved(b);
    localStorage.setItem(`${KEY}.${runId}`, JSON.stringify(b));
    localStorage.setItem(KEY, JSON.stringify(b));
  };
  const budget = parse(saved.metric, text);
  const setMetric = (metric: BudgetMetric) => {
    const b = { metric, value: budgetMeta(metric).fallback };
    setText(shown(b));
    save(b);
  };
  const setValue = (s: string) => {
    setText(s);
    const b = parse(saved.metric, s);
    if (b) save(b);
  };
  return { budget, metric: saved.metric, text, setMetric, setValue };
}

/** The budget: a metric (mean KLD ≤, same top ≥ %, PPL ratio ≤) and its value. */
export function BudgetControl({ state }: { state: ReturnType<typeof useBudget> }) {
  const meta = budgetMeta(state.metric);
  return (
    <div className="row budget" data-testid="quantize-budget">
      <label>Budget</label>
      <select aria-label="Budget metric" value={state.metric} onChange={(e) => state.setMetric(e.target.value as BudgetMetric)}>
        {BUDGET_METRICS.map((m) => (
          <option key={m.metric} value={m.metric}>
            {m.label} {m.bound}
          </option>
        ))}
      </select>
      <input
        aria-label="Budget value"
        className={state.budget ? undefined : 'invalid'}
        size={8}
        value={state.text}
        onChange={(e) => state.setValue(e.target.value)}
      />
      {state.metric === 'sameTop' && <span className="muted">%</span>}
      <span className="muted">
        {meta.metric === 'kld'
          ? 'mean KL divergence from the source per token (llama.cpp measures Q4_K_M of Llama-3-8B at 0.03)'
          : meta.metric === 'sameTop'
            ? 'how often the most likely next token is the source’s'
            : 'PPL(Q) / PPL(source) on the gate’s text'}
      </span>
    </div>
  );
}
