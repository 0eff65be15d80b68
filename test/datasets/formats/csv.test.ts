import { describe, expect, it } from 'vitest';
import { readRecords } from '../../../src-main/core/datasets/formats/read.js';
import { all, examples, failure, lines, rejected, sample, write } from './helpers.js';

describe('CSV and TSV import', () => {
  it('reads a CSV with a header, quoted commas, quoted newlines and "" escapes, each row at the line it starts on', async () => {
    const items = await all(sample('qa.csv'), { container: 'csv', mapping: { prompt: 'question', response: 'answer', system: 'system_prompt' } });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'ok'], // spans lines 3–6
      [7, 'ok'],
      [8, 'ok'],
    ]);
    const ex = examples(items);
    expect(ex[0]).toEqual({
      messages: [
        { role: 'system', content: 'You are a calculator.' },
        { role: 'user', content: 'What is 2 + 2, exactly?' },
        { role: 'assistant', content: '4' },
      ],
      reference: '4',
    });
    expect(ex[1]!.messages).toEqual([
      { role: 'user', content: 'Write a haiku\nabout the sea' },
      { role: 'assistant', content: 'Waves fold into foam,\nsalt wind carries gull voices,\nthe tide keeps its time.' },
    ]);
    expect(ex[2]!.messages[0]).toEqual({ role: 'user', content: 'Say "hello" in French.' });
    expect(ex[3]!.messages[0]).toEqual({ role: 'system', content: 'Answer briefly, please.' });
  });

  it('guesses the mapping from the header when none is given', async () => {
    const given = await all(sample('qa.csv'), { container: 'csv', mapping: { prompt: 'question', response: 'answer', system: 'system_prompt' } });
    expect(await all(sample('qa.csv'), { container: 'csv' })).toEqual(given);
  });

  it('reads a TSV with a BOM, CRLF line ends and a quoted tab', async () => {
    const items = await all(sample('completions.tsv'), { container: 'tsv', mapping: { prompt: 'prompt', response: 'completion' } });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'ok'],
      [4, 'ok'],
    ]);
    const ex = examples(items);
    expect(ex[0]).toEqual({
      messages: [
        { role: 'user', content: 'Translate to German: good morning' },
        { role: 'assistant', content: 'Guten Morgen' },
      ],
      reference: 'Guten Morgen',
    });
    expect(ex[1]!.messages[0]!.content).toBe('Split\tthis');
  });

  it('stops at a record with thousands of stray quotes (quadratic in csv-parse) with a reject, keeping the rows before', async () => {
    // found by the fuzzer: every stray quote makes csv-parse copy the whole field into its error; 20 kB took 30 s
    const file = write('quotes.csv', `prompt,completion\nfirst,1\nsecond,2\nx${'{"a":'.repeat(30_000)},3\nlast,4\n`);
    const items = await all(file, { container: 'csv', mapping: { prompt: 'prompt', response: 'completion' } });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'ok'],
      [4, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(
      /^a quote appears inside an unquoted field in column "prompt" .*; the record holds more than 50 such errors, so reading stopped here$/,
    );
  });

  it('with lone CR line ends, a bad record right after the header is rejected, not dropped as a repeat', async () => {
    // found by the fuzzer: every record is on "line 1" when no \n ends a line, and the reject was taken for a duplicate
    const file = write('cr.csv', 'prompt,completion\rx"y,1\rok,2\r');
    const items = await all(file, { container: 'csv', mapping: { prompt: 'prompt', response: 'completion' } });
    expect(lines(items)).toEqual([
      [2, 'rejected'],
      [3, 'ok'],
    ]);
  });

  it('two bad records in a row: the first says which lines it took with it', async () => {
    // found by the fuzzer: only the last reject got its "(lines … were not imported)", so lines 3–5 vanished silently
    const file = write('two-bad.csv', 'prompt,completion\n"a\nb\n"c,1\n"ok",2\n"open\n');
    const items = await all(file, { container: 'csv', mapping: { prompt: 'prompt', response: 'completion' } });
    expect(rejected(items).map((r) => [r.line, /\(lines [^)]*\)/.exec(r.reason)?.[0] ?? ''])).toEqual([
      [2, '(lines 2–5 were not imported)'],
      [6, ''],
    ]);
  });

  it('rejects a row with the wrong column count at its line and imports the rest', async () => {
    const file = write('count.csv', 'prompt,response\na,b\nc,d,e\nf\ng,h\n');
    const items = await all(file, { container: 'csv' });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'rejected'],
      [4, 'rejected'],
      [5, 'ok'],
    ]);
    expect(rejected(items)[0]).toEqual({ line: 3, reason: 'expected 2 columns (prompt, response), found 3', excerpt: 'c,d,e' });
    expect(rejected(items)[1]!.reason).toBe('expected 2 columns (prompt, response), found 1');
    expect(examples(items).map((e) => e.messages[0]!.content)).toEqual(['a', 'g']);
  });

  it('keeps later line numbers right after quoted newlines, also with CRLF inside quotes', async () => {
    const lf = write('lf.csv', 'prompt,response\n"one\ntwo\nthree",x\nnext,y\n"a\n\nb",z\nlast,w');
    expect(lines(await all(lf, { container: 'csv' }))).toEqual([
      [2, 'ok'],
      [5, 'ok'],
      [6, 'ok'],
      [9, 'ok'],
    ]);
    const crlf = write('crlf.csv', 'prompt,response\r\n"a\r\nb",c\r\nd,e\r\n"x\r\ny\r\nz",w\r\nlast,one');
    const items = await all(crlf, { container: 'csv' });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [4, 'ok'],
      [5, 'ok'],
      [8, 'ok'],
    ]);
    expect(examples(items)[0]!.messages[0]!.content).toBe('a\r\nb'); // the field's content is kept as written
  });

  it('rejects an empty or blank prompt cell, naming the column; an empty response just leaves no reference', async () => {
    const file = write('empty.csv', 'question,answer\n,orphan answer\n"  ",x\nq,\n');
    const items = await all(file, { container: 'csv' });
    expect(rejected(items)).toEqual([
      { line: 2, reason: 'column "question" (the prompt) is empty', excerpt: ',orphan answer' },
      { line: 3, reason: 'column "question" (the prompt) is empty', excerpt: '"  ",x' },
    ]);
    expect(examples(items)).toEqual([{ messages: [{ role: 'user', content: 'q' }], reference: null }]);
  });

  it('refuses a mapping naming a column the header lacks before reading anything', async () => {
    const records = readRecords(sample('qa.csv'), { container: 'csv', mapping: { prompt: 'Question', response: 'reply' } });
    const e = await failure(records.next());
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('mapping');
    expect(e.message).toBe('qa.csv has no column "Question", "reply" (did you mean "question"?); its columns are: question, answer, system_prompt');
  });

  it('refuses a table none of whose columns can be the prompt when no mapping is given', async () => {
    const file = write('odd.csv', 'foo,bar\n1,2\n');
    const e = await failure(readRecords(file, { container: 'csv' }).next());
    expect(e).toMatchObject({ code: 'invalid_input', field: 'mapping', message: 'odd.csv: no column can be the prompt; choose one of: foo, bar' });
    // with a mapping it reads, numbers and all
    expect(examples(await all(file, { container: 'csv', mapping: { prompt: 'foo', response: 'bar' } }))).toEqual([
      {
        messages: [
          { role: 'user', content: '1' },
          { role: 'assistant', content: '2' },
        ],
        reference: '2',
      },
    ]);
  });

  it('rejects rows with invalid UTF-8, naming the column, at the line the row starts on', async () => {
    const file = write(
      'latin1.csv',
      Buffer.concat([
        Buffer.from('prompt,response\nok,fine\ncaf'),
        Buffer.from([0xe9]), // "café" in Latin-1
        Buffer.from(',x\n"multi\nline",bad '),
        Buffer.from([0xff]),
        Buffer.from('\nlast,one\n'),
      ]),
    );
    const items = await all(file, { container: 'csv' });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'rejected'],
      [4, 'rejected'],
      [6, 'ok'],
    ]);
    expect(rejected(items).map((r) => r.reason)).toEqual(['column "prompt" is not valid UTF-8', 'column "response" is not valid UTF-8']);
  });

  it('rejects records with stray quotes and says which lines were lost', async () => {
    const file = write('quotes.csv', 'prompt,response\na,b\nsay "hi",x\nc,d\n"bad"x,z\ne,f\n"q",r\ng,h\n');
    const items = await all(file, { container: 'csv' });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'rejected'],
      [4, 'ok'],
      [5, 'rejected'],
      [8, 'ok'],
    ]);
    const [stray, closing] = rejected(items);
    expect(stray!.reason).toMatch(/^a quote appears inside an unquoted field in column "prompt"/);
    // after `"bad"x` the parser stays inside quotes until a quote closes properly: lines 5–7 are one broken record
    expect(closing!.reason).toMatch(/closing quote .* \(lines 5–7 were not imported\)$/);
    expect(examples(items).map((e) => e.messages[0]!.content)).toEqual(['a', 'c', 'g']);
  });

  it('reports a quote left open until the end of the file', async () => {
    const items = await all(write('open.csv', 'prompt,response\na,b\n"never closed,x\nc,d\n'), { container: 'csv' });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toBe('a quoted field in column "prompt" is never closed: the file ends inside quotes (lines 3–4 were not imported)');
  });

  it('stops with a reject at a record longer than the limit', async () => {
    const file = write('long.csv', `prompt,response\na,b\n"${'x'.repeat(500)}",y\nc,d\n`);
    const items = await all(file, { container: 'csv' }, { maxLineBytes: 100 });
    expect(lines(items)).toEqual([
      [2, 'ok'],
      [3, 'rejected'],
    ]);
    expect(rejected(items)[0]!.reason).toMatch(/longer than the limit of 100 characters/);
  });

  it('reads Alpaca-shaped tables as Alpaca records, joining instruction and input', async () => {
    const file = write('alpaca.csv', 'instruction,input,output\nTranslate to French.,The cat sleeps.,Le chat dort.\nSay hi.,,Hi!\n');
    expect(examples(await all(file, { container: 'csv', record: 'alpaca' }))).toEqual([
      {
        messages: [
          { role: 'user', content: 'Translate to French.\n\nThe cat sleeps.' },
          { role: 'assistant', content: 'Le chat dort.' },
        ],
        reference: 'Le chat dort.',
      },
      {
        messages: [
          { role: 'user', content: 'Say hi.' },
          { role: 'assistant', content: 'Hi!' },
        ],
        reference: 'Hi!',
      },
    ]);
  });

  it('yields nothing for an empty file or a header without rows', async () => {
    expect(await all(write('empty.csv', ''), { container: 'csv' })).toEqual([]);
    expect(await all(write('empty.tsv', ''), { container: 'tsv' })).toEqual([]);
    expect(await all(write('header.csv', 'prompt,response\n'), { container: 'csv' })).toEqual([]);
    expect(await all(write('blank.tsv', '\n\n'), { container: 'tsv' })).toEqual([]);
  });

  it('stops when its signal is aborted', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `q${i},a${i}`).join('\n');
    const file = write('abort.csv', `prompt,response\n${rows}\n`);
    const controller = new AbortController();
    let n = 0;
    const e = await failure(
      (async () => {
        for await (const _ of readRecords(file, { container: 'csv' }, { signal: controller.signal })) {
          if (++n === 10) controller.abort();
        }
      })(),
    );
    expect(e.name).toBe('AbortError');
    expect(n).toBeLessThan(5000);
  });
});
