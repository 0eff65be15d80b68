import { useMemo } from 'react';
import type { CompareResults } from '../../../src-shared/domain/adapters.js';
import { num } from '../../ui/format.js';
import { diffCounts, wordDiff, type DiffPart } from './wordDiff.js';

/** "same as A", or how many words were added and dropped against A's answer. */
function versusA(d: DiffPart[]): string {
  const { added, removed } = diffCounts(d);
  if (added === 0 && removed === 0) return 'same as A';
  return `vs A: +${added} −${removed} words`;
}

export const COLORS = ['#4fb3ff', '#f2a33a', '#7bd88f', '#e06c75', '#c678dd', '#56b6c2'];

/** One prompt of a comparison: each variant's answer, its words against A's, and the buttons to mark the better one. */
export function PromptRow({
  p,
  variants,
  showRemoved,
  onVote,
  live,
}: {
  p: CompareResults['prompts'][number];
  variants: CompareResults['variants'];
  showRemoved: boolean;
  onVote: (prompt: number, winner: number | null) => void;
  /** The run is still going: a missing answer is on its way. */
  live: boolean;
}) {
  const base = p.answers[0]?.text ?? null;
  const diffs = useMemo(() => p.answers.map((a, i) => (a && base !== null && i > 0 ? wordDiff(base, a.text) : null)), [p.answers, base]);
  const complete = p.answers.every((a) => a !== null);
  return (
    <div className="card compare-prompt" data-testid={`compare-prompt-${p.index}`}>
      <div className="row compare-prompt-head">
        <span className="muted">#{p.index + 1}</span>
        <div className="pre grow prompt-text">{p.prompt}</div>
        <button
          className={`secondary small${p.winner === -1 ? ' chosen' : ''}`}
          aria-pressed={p.winner === -1}
          disabled={!complete}
          onClick={() => onVote(p.index, p.winner === -1 ? null : -1)}
        >
          Tie
        </button>
        {p.winner !== null && (
          <button className="link small" onClick={() => onVote(p.index, null)}>
            clear
          </button>
        )}
      </div>
      <div className="answers-grid" style={{ gridTemplateColumns: `repeat(${variants.length}, minmax(0, 1fr))` }}>
        {variants.map((v, i) => {
          const a = p.answers[i] ?? null;
          const d = diffs[i];
          const won = p.winner === i;
          return (
            <div
              key={v.index}
              className={`answer${won ? ' won' : ''}`}
              data-testid={`answer-${p.index}-${i}`}
              style={{ borderTopColor: COLORS[i % COLORS.length] }}
            >
              <div className="answer-head">
                <span className="variant-index" style={{ background: COLORS[i % COLORS.length] }}>
                  {String.fromCharCode(65 + i)}
                </span>
                <span className="ellipsis" title={v.label}>
                  {v.label}
                </span>
              </div>
              {a === null ? (
                <div className="answer-text muted">{live ? 'waiting…' : 'not answered: resume the run'}</div>
              ) : (
                <>
                  <div className="answer-text">
                    {d
                      ? d.map((part, k) =>
                          part.kind === 'same' ? (
                            <span key={k}>{part.text}</span>
                          ) : part.kind === 'added' ? (
                            <mark key={k} className="diff-add">
                              {part.text}
                            </mark>
                          ) : showRemoved ? (
                            <span key={k} className="diff-rem">
                              {part.text}
                            </span>
                          ) : null,
                        )
                      : a.text || <span className="muted">(empty)</span>}
                  </div>
                  <div className="answer-foot">
                    <span className="muted" title={`${a.text.length} characters`}>
                      {a.text.split(/\s+/).filter(Boolean).length} words · {a.tokens} tokens · {num(a.tokensPerSecond)} tokens/s ·{' '}
                      {a.ms < 1000 ? `${Math.round(a.ms)} ms` : `${(a.ms / 1000).toFixed(1)} s`}
                      {i > 0 && d && <> · {versusA(d)}</>}
                    </span>
                    <button
                      className={`small${won ? ' chosen' : ' secondary'}`}
                      aria-pressed={won}
                      aria-label={`${String.fromCharCode(65 + i)} is better on prompt ${p.index + 1}`}
                      disabled={!complete}
                      onClick={() => onVote(p.index, won ? null : i)}
                    >
                      {won ? '★ better' : 'Better'}
                    </button>
                  </div>
                </>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
