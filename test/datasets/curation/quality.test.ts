import { describe, expect, it } from 'vitest';
import type { ChatMessage, NormalizedExample } from '../../../src-shared/domain/datasets.js';
import { DEFAULT_QUALITY_OPTIONS, qualityIssues, repetitionIssue, truncationIssue } from '../../../src-main/core/datasets/curation/quality.js';

const qa = (prompt: string, answer: string | null, extra: ChatMessage[] = []): NormalizedExample => {
  const messages: ChatMessage[] = [...extra, { role: 'user', content: prompt }];
  if (answer !== null) messages.push({ role: 'assistant', content: answer });
  return { messages, reference: answer };
};
const kinds = (e: NormalizedExample, options = {}) => qualityIssues(e, options).map((i) => i.kind);

const PROSE = `The French Revolution began in 1789 and reshaped politics across Europe. It abolished feudal privileges, proclaimed the rights of man, and ended the absolute monarchy of Louis XVI.

Historians still debate its causes: fiscal crisis, Enlightenment ideas, poor harvests and the rigid social order all played a part. Its legacy includes the metric system, the Napoleonic Code and the idea that sovereignty belongs to the nation.`;

const CODE_ANSWER = [
  'Here is a small matrix class:',
  '',
  '```python',
  'class Matrix:',
  '    def __init__(self, rows, cols):',
  '        self.rows = rows',
  '        self.cols = cols',
  '        self.data = [[0, 0, 0, 0, 0, 0, 0, 0] for _ in range(rows)]',
  '',
  '    def get(self, i, j):',
  '        return self.data[i][j]',
  '',
  '    def set(self, i, j, value):',
  '        self.data[i][j] = value',
  '```',
  '',
  '```js',
  'function f(a) {',
  '  if (a) {',
  '    if (a.b) {',
  '      return 1;',
  '    }',
  '  }',
  '}',
  'const zeros = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];',
  '```',
  '',
  '| Method | Cost |',
  '| --- | --- |',
  '| get | O(1) |',
  '| set | O(1) |',
].join('\n');

const CJK_ANSWER =
  '北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，拥有故宫、天坛和长城等世界文化遗产。现代北京交通发达，地铁网络覆盖全城，每年吸引数以百万计的游客。';

describe('empty prompt and empty answer', () => {
  it('flags an empty or whitespace-only answer', () => {
    expect(qualityIssues(qa('What is 2+2?', ''))).toEqual([{ kind: 'empty-answer', detail: 'the answer is empty' }]);
    expect(kinds(qa('What is 2+2?', ' \n\t '))).toEqual(['empty-answer']);
  });

  it('does not flag prompt-only examples', () => {
    expect(kinds(qa('What is 2+2?', null))).toEqual([]);
  });

  it('uses the last assistant message', () => {
    const e: NormalizedExample = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Still there?' },
        { role: 'assistant', content: 'Yes, I am here.' },
      ],
      reference: 'Yes, I am here.',
    };
    expect(kinds(e)).toEqual([]);
  });

  it('flags an empty prompt', () => {
    expect(kinds(qa('   ', 'Four.'))).toEqual(['empty-prompt']);
    expect(kinds(qa('', ''))).toEqual(['empty-prompt', 'empty-answer']);
    const systemOnly: NormalizedExample = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'OK.' },
      ],
      reference: 'OK.',
    };
    expect(qualityIssues(systemOnly)).toEqual([{ kind: 'empty-prompt', detail: 'the prompt has no user message' }]);
    expect(kinds(qa('What is 2+2?', 'Four.', [{ role: 'system', content: '' }]))).toEqual([]);
  });
});

describe('repeated n-grams', () => {
  it('does not flag normal prose, code, tables or a CJK answer', () => {
    expect(kinds(qa('Tell me about the French Revolution.', PROSE))).toEqual([]);
    expect(kinds(qa('Write a matrix class.', CODE_ANSWER))).toEqual([]);
    expect(kinds(qa('介绍一下北京。', CJK_ANSWER))).toEqual([]);
    expect(repetitionIssue('Yes.')).toBeNull();
    expect(repetitionIssue('ha ha ha')).toBeNull();
    expect(repetitionIssue('}\n}\n}\n}')).toBeNull();
    expect(repetitionIssue('Thank you, thank you, thank you!')).toBeNull();
  });

  it('flags a line repeated three times in a row', () => {
    const answer = 'Sure.\nI cannot help with that request.\nI cannot help with that request.\nI cannot help with that request.';
    expect(qualityIssues(qa('Help?', answer))).toEqual([
      { kind: 'repeated-ngrams', detail: 'the line “I cannot help with that request.” is repeated 3+ times in a row' },
    ]);
    // Twice is fine.
    expect(repetitionIssue('I cannot help with that request.\nI cannot help with that request.\nOK.')).toBeNull();
  });

  it('flags a looping span and a dominant n-gram', () => {
    const loop = `The answer is 42. ${'I am not sure about that. '.repeat(4)}`;
    expect(repetitionIssue(loop)).toBe('“i am not sure about that.” is repeated 4 times in a row');
    expect(kinds(qa('Why?', loop))).toEqual(['repeated-ngrams']);
    const dominant = `Well, ${'no '.repeat(40)}and that is all.`;
    expect(repetitionIssue(dominant)).toMatch(/^the 3-gram “no no no” makes \d+% of the answer's \d+ 3-grams$/);
  });

  it('flags loops in text without spaces (character mode)', () => {
    const loop = `我觉得这个问题很难回答。${'我不知道答案。'.repeat(5)}`;
    // The loop is found from its first full period, here starting at the full stop before it.
    expect(repetitionIssue(loop)).toBe('“。我不知道答案” is repeated 5 times in a row');
    expect(kinds(qa('为什么？', loop))).toEqual(['repeated-ngrams']);
  });

  it('allows a few identical lines in code, not a loop', () => {
    const keras = ['```python', 'model = Sequential()', ...Array(3).fill("model.add(Dense(64, activation='relu'))"), 'model.add(Dense(10))', '```'].join('\n');
    expect(repetitionIssue(`A small network:\n\n${keras}\n\nTrain it with fit().`)).toBeNull();
    const stuck = ['```python', ...Array(8).fill("model.add(Dense(64, activation='relu'))"), '```'].join('\n');
    expect(repetitionIssue(stuck)).toBe("the line “model.add(Dense(64, activation='relu'))” is repeated 6+ times in a row");
    // Outside code, three are enough.
    expect(repetitionIssue(Array(3).fill("model.add(Dense(64, activation='relu'))").join('\n'))).not.toBeNull();
  });

  it('does not switch to characters for long tokens that are not CJK (HTML, URLs)', () => {
    const html =
      '<p align="center"><img src="https://example.com/logo.png" width="200"><br><br><br></p> and a link https://example.com/a/very/long/path/to/somewhere';
    expect(repetitionIssue(html)).toBeNull();
  });

  it('honours options', () => {
    const text = `${'alpha beta gamma '.repeat(3)}delta.`;
    expect(repetitionIssue(text)).not.toBeNull();
    expect(repetitionIssue(text, { minRepeats: 4 })).toBeNull();
    expect(DEFAULT_QUALITY_OPTIONS.maxTopNgramShare).toBe(0.3);
  });
});

describe('truncated answers', () => {
  it('does not flag complete answers', () => {
    expect(truncationIssue(PROSE)).toBeNull();
    expect(truncationIssue(CODE_ANSWER)).toBeNull();
    expect(truncationIssue(CJK_ANSWER)).toBeNull();
    expect(truncationIssue('Paris')).toBeNull();
    expect(truncationIssue('Steps:\n- install it\n- run it\n- check the logs')).toBeNull();
    expect(truncationIssue('See https://example.com/docs/')).toBeNull();
    expect(truncationIssue('I failed the exam :( but I will retry.')).toBeNull();
    expect(truncationIssue('That was sad :(')).toBeNull();
    expect(truncationIssue('Done (see the notes above).')).toBeNull();
    expect(truncationIssue('Part one.\n\n---')).toBeNull();
    expect(truncationIssue('The key is YWJjZGVm==')).toBeNull();
    expect(truncationIssue('1) first 2) second 3) third')).toBeNull();
    expect(truncationIssue('```\ncode\n```')).toBeNull();
    expect(truncationIssue('Use `f(x` carefully, then call g')).toBeNull();
    expect(truncationIssue('Supported by a grant from Hugging Face :hugs:')).toBeNull();
    expect(truncationIssue("It's small, simple and powerful. Try it :P")).toBeNull();
    // An unclosed bracket in an earlier paragraph is not a truncation signal.
    expect(truncationIssue('Note (an aside that never closes.\n\nThe rest is fine and ends without a stop')).toBeNull();
  });

  it('flags an unclosed code fence', () => {
    expect(truncationIssue('Here is the code:\n```python\ndef f(x):\n    return x')).toBe('a ``` code fence is never closed');
    expect(truncationIssue('~~~~\nls -la\n~~~')).toBe('a ~~~ code fence is never closed');
    expect(kinds(qa('Code?', 'Sure:\n```js\nconsole.log(1);'))).toEqual(['truncated-answer']);
  });

  it('flags a dangling last character', () => {
    expect(truncationIssue('The main ingredients are flour, sugar,')).toBe('the answer ends with a dangling “,”');
    expect(truncationIssue('Here are the steps:')).toBe('the answer ends with a dangling “:”');
    expect(truncationIssue('x =')).toBe('the answer ends with a dangling “=”');
    expect(truncationIssue('It was the best of times, it was the worst —')).toBe('the answer ends with a dangling “—”');
    expect(truncationIssue('主要原因有三个：')).toBe('the answer ends with a dangling “：”');
    expect(truncationIssue('首先，')).toBe('the answer ends with a dangling “，”');
  });

  it('flags unbalanced brackets at the end', () => {
    expect(truncationIssue('The result is f(g(x) which')).toBe('unclosed “(” at the end of the answer');
    expect(truncationIssue('config = {"a": [1, 2, 3], "b": 4')).toBe('unclosed “{” at the end of the answer');
    // Closed before a final full stop: fine.
    expect(truncationIssue('See (the appendix.')).toBeNull();
  });

  it('flags a last sentence cut mid-way', () => {
    expect(truncationIssue('Paris is the capital of France. It is known for')).toBe(
      'the last sentence is cut off: “Paris is the capital of France. It is known for”',
    );
    expect(truncationIssue('北京是中国的首都。它有很多')).toMatch(/^the last sentence is cut off/);
    expect(truncationIssue('Paris is the capital of France. It is known for', { midSentence: false })).toBeNull();
  });

  it('flags an answer that stopped at a token limit (with a tokenizer)', () => {
    const countTokens = (s: string) => s.split(/\s+/u).filter(Boolean).length;
    const answer = Array.from({ length: 256 }, (_, i) => `word${i}`).join(' ');
    expect(truncationIssue(answer)).toBeNull();
    expect(truncationIssue(answer, { countTokens })).toBe('the answer is 256 tokens long (a generation limit of 256) and has no final punctuation');
    expect(truncationIssue(`${answer}.`, { countTokens })).toBeNull();
    expect(truncationIssue(answer, { countTokens, tokenLimits: [100] })).toBeNull();
  });
});
