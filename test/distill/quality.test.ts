import { describe, expect, it } from 'vitest';
import { earlyVerdict, endVerdict, groupRejections, rejectionCategory, type GateSettings } from '../../src-main/core/distill/quality.js';
import { jsonRejection, rejection } from '../../src-main/core/distill/prompt.js';
import { judgeRejection } from '../../src-main/core/distill/judge.js';

const filters = { refusals: true, truncated: true, minChars: 20, maxChars: 400, mustMatch: '^A:', mustNotMatch: 'TODO' };
const settings: GateSettings = { maxTokens: 256, filters, judgeThreshold: 7, maxRejectRate: 0.5 };

describe('the quality gate of a distillation run', () => {
  it('files every reason the filters give under its category', () => {
    const reasons = {
      truncated: rejection('A: long', 'length', filters),
      empty: rejection('  ', 'stop', filters),
      length: rejection('A: short', 'stop', filters),
      regex: rejection('no prefix here, long enough to pass', 'stop', filters),
      refusal: rejection("I'm sorry, but I can't help with that request.", 'stop', { ...filters, mustMatch: undefined, minChars: 0 }),
      json: jsonRejection('{"a": '),
      judge: judgeRejection({ score: 3, reason: 'wrong' }, 7),
    };
    for (const [category, reason] of Object.entries(reasons)) expect(rejectionCategory(reason!)).toBe(category);
    expect(rejectionCategory(rejection('A: this answer mentions a TODO item', 'stop', filters)!)).toBe('regex');
    expect(rejectionCategory('does not match the JSON schema: /a must be integer')).toBe('schema');
    expect(rejectionCategory('excluded by hand')).toBe('hand');
  });

  it('says what each category of rejection asks the user to change', () => {
    const all = (reason: string) => endVerdict({ total: 20, kept: 0, reasons: [{ reason, count: 20 }] }, settings);
    expect(all('truncated: the answer hit the token limit')).toBe(
      "all 20 answers hit max tokens 256; raise it or untick 'reject truncated' (CLI: --keep-truncated)",
    );
    expect(all('reads like a refusal')).toBe("all 20 answers read like refusals; reword the prompt or untick 'reject refusals'");
    expect(all('shorter than 20 characters (3)')).toBe('all 20 answers failed the length limits (at least 20, at most 400 characters); loosen them');
    expect(all('does not match /^A:/')).toBe(
      'all 20 answers failed the patterns (must match /^A:/, must not match /TODO/); check the patterns against a few answers',
    );
    expect(all('not valid JSON (Unexpected end of JSON input)')).toBe(
      'all 20 answers were not valid JSON; raise max tokens (256) or use a teacher that supports structured output',
    );
    expect(all('does not match the JSON schema: /a must be integer')).toBe(
      'all 20 answers did not match the JSON schema; loosen the schema or tell the teacher about it in the prompt',
    );
    expect(all('judge: 3/10 < 7: wrong')).toBe("all 20 answers scored below the judge's pass mark 7; lower the pass mark or revise the rubric");
    expect(endVerdict({ total: 1, kept: 0, reasons: [{ reason: 'empty answer', count: 1 }] }, settings)).toBe(
      "the only answer was empty; check the prompt template and the teacher's chat template",
    );
  });

  it('groups mixed reasons, most frequent first, and passes a run within its reject rate', () => {
    const reasons = [
      { reason: 'judge: 2/10 < 7: off topic', count: 1 },
      { reason: 'truncated: the answer hit the token limit', count: 5 },
      { reason: 'judge: 4/10 < 7: vague', count: 2 },
    ];
    expect(groupRejections(reasons)).toEqual([
      { category: 'truncated', count: 5 },
      { category: 'judge', count: 3 },
    ]);
    expect(endVerdict({ total: 8, kept: 0, reasons }, settings)).toBe(
      "all 8 answers were rejected: 5 hit max tokens 256 (raise it or untick 'reject truncated' (CLI: --keep-truncated)); " +
        "3 scored below the judge's pass mark 7 (lower the pass mark or revise the rubric)",
    );
    expect(endVerdict({ total: 16, kept: 8, reasons }, settings)).toBeNull(); // 50% is allowed
    expect(endVerdict({ total: 15, kept: 7, reasons }, settings)).toMatch(
      /^8 of 15 answers were rejected \(53%, above the 50% allowed\): 5 hit max tokens 256/,
    );
    expect(endVerdict({ total: 15, kept: 7, reasons }, { ...settings, maxRejectRate: 0.6 })).toBeNull();
  });

  it('stops early only when the first answers were all rejected for one reason', () => {
    const truncated = [{ reason: 'truncated: the answer hit the token limit', count: 8 }];
    expect(earlyVerdict({ total: 8, kept: 0, reasons: truncated }, settings)).toMatch(/^the first 8 answers all hit max tokens 256; raise it/);
    expect(earlyVerdict({ total: 8, kept: 1, reasons: [{ reason: 'reads like a refusal', count: 7 }] }, settings)).toBeNull();
    expect(
      earlyVerdict(
        {
          total: 8,
          kept: 0,
          reasons: [
            { reason: 'reads like a refusal', count: 4 },
            { reason: 'empty answer', count: 4 },
          ],
        },
        settings,
      ),
    ).toBeNull();
    expect(earlyVerdict({ total: 8, kept: 0, reasons: truncated }, { ...settings, maxRejectRate: 1 })).toBeNull();
  });
});
