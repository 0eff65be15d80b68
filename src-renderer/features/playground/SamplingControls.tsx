import type { Sampling } from '../../../src-shared/domain/playground.js';

type NumKey = Exclude<keyof Sampling, 'seed'>;
const CONTROLS: { key: NumKey; label: string; min: number; max: number; step: number; hint: string }[] = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.05, hint: '0 = greedy' },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.05, hint: 'nucleus' },
  { key: 'topK', label: 'Top-k', min: 0, max: 200, step: 1, hint: '0 = off' },
  { key: 'minP', label: 'Min-p', min: 0, max: 1, step: 0.01, hint: '' },
  { key: 'repeatPenalty', label: 'Repeat penalty', min: 1, max: 2, step: 0.01, hint: '1 = off' },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 4096, step: 1, hint: '' },
];

export function SamplingControls({ value, onChange, disabled }: { value: Sampling; onChange: (s: Sampling) => void; disabled: boolean }) {
  return (
    <fieldset className="sampling" disabled={disabled}>
      <legend>Sampling</legend>
      {CONTROLS.map((c) => (
        <label key={c.key} className="slider">
          <span>
            {c.label} <span className="muted">{c.hint}</span>
          </span>
          <input
            type="range"
            min={c.min}
            max={c.max}
            step={c.step}
            value={value[c.key]}
            onChange={(e) => onChange({ ...value, [c.key]: Number(e.target.value) })}
          />
          <input
            type="number"
            min={c.min}
            max={c.max}
            step={c.step}
            value={value[c.key]}
            aria-label={c.label}
            onChange={(e) => onChange({ ...value, [c.key]: Number(e.target.value) })}
          />
        </label>
      ))}
      <label className="slider">
        <span>
          Seed <span className="muted">empty = random</span>
        </span>
        <input
          type="number"
          min={0}
          value={value.seed ?? ''}
          aria-label="Seed"
          placeholder="random"
          onChange={(e) => onChange({ ...value, seed: e.target.value === '' ? null : Math.max(0, Math.floor(Number(e.target.value))) })}
        />
      </label>
    </fieldset>
  );
}
