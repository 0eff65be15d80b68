import fs from 'node:fs';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { streamArray } from 'stream-json/core/streamers/stream-array.js';
import { DEFAULT_MAX_LINE_BYTES } from './line-reader.js';
import { MAX_JSON_DEPTH, TOO_DEEP } from '../../json-depth.js';
import { Utf8Checker } from './utf8.js';
import type { RejectedRecord } from '../../../../src-shared/domain/datasets.js';

/** One element of the array (`line` = its 1-based index), or why the reading stopped. */
export type ArrayItem = { line: number; value: unknown } | { line: number; rejected: RejectedRecord };

// stream-json's stages return `none` (no output) or `many(values)`; both are registered symbols of stream-chain.
const NONE = Symbol.for('object-stream.none');
const MANY = Symbol.for('object-stream.many');
function outputs<T>(r: unknown): T[] {
  if (r === NONE) return [];
  if (typeof r === 'object' && r !== null && (r as Record<symbol, unknown>)[MANY] === 1) return (r as { values: T[] }).values;
  return [r as T];
}

/** Why the reading stops; carries the reject to yield. */
class Stop extends Error {
  constructor(readonly rejected: RejectedRecord) {
    super(rejected.reason);
  }
}

const countNewlines = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * Streams the elements of a top-level JSON array (what HF `to_json(lines=False)` and many tools write) with
 * stream-json's tokenizer and StreamArray, in memory bounded by the largest element. The text is fed to the tokenizer
 * in pieces ending at each `}` or `]`, so every element is handed out as soon as it closes: when the file breaks off
 * or turns invalid, every element before that point has been yielded, and the reject comes at the element being read
 * (with the file line near the error). Reading stops there: past a syntax error nothing can be trusted. An element
 * longer than `maxLineBytes` characters and invalid UTF-8 also stop the reading with a reject. An empty (or
 * whitespace-only) file yields nothing.
 */
export async function* readJsonArray(file: string, options: { maxLineBytes?: number; signal?: AbortSignal } = {}): AsyncGenerator<ArrayItem> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const tokenizer = jsonParser({ streamValues: false });
  // Elements in the order they end: kept ones with their value, and those dropped for nesting too deep (the
  // assembler stops building one as soon as it passes the limit, so nothing recursive ever sees it).
  let found: ({ key: number; value: unknown } | { tooDeep: true })[] = [];
  const elements = streamArray({
    includeUndecided: true,
    objectFilter: (asm) => {
      if (asm.depth <= MAX_JSON_DEPTH + 1) return undefined; // the array itself is level 1
      found.push({ tooDeep: true });
      return false;
    },
  });
  const checker = new Utf8Checker();
  const decoder = new TextDecoder('utf-8'); // drops a leading BOM
  let next = 1; // 1-based index of the element being read
  let since = 0; // characters fed since the last complete element
  let fileLine = 1; // line of the file where the next piece starts
  let bytes = 0;
  let content = false; // anything but whitespace seen

  let last = { text: '', line: 1 }; // the last piece fed, for the excerpt of an error at the end

  const fail = (reason: string, piece = last.text, line = last.line): Stop => {
    const lead = piece.match(/^[\s,]*/)![0];
    return new Stop({
      line: next,
      reason: `${reason} (near line ${line + countNewlines(lead)} of the file); the rest of the file was not read`,
      excerpt: piece.slice(lead.length, lead.length + 200),
    });
  };

  function* push(piece: string | typeof NONE): Generator<ArrayItem> {
    const text = typeof piece === 'string' ? piece : last.text;
    if (typeof piece === 'string') last = { text: piece, line: fileLine };
    let tokens: Token[];
    found = [];
    try {
      // the tokenizer takes `none` (a registered symbol) as "end of input"
      tokens = outputs<Token>(tokenizer(piece as string));
      for (const t of tokens) for (const o of outputs<{ key: number; value: unknown }>(elements(t))) found.push(o);
    } catch (e) {
      const message = (e as Error).message;
      if (/should be an array/.test(message)) throw fail('the file holds a single JSON value, not an array of records');
      const detail = message.replace(/^Parser (cannot parse input: |has )?/, '').replace(/\.$/, '');
      if (typeof piece !== 'string') {
        throw fail(`the JSON array is cut off ${next > 1 ? `after record ${next - 1}` : 'before its first record'}: the file ends early (${detail})`);
      }
      throw fail(`not valid JSON in record ${next}: ${detail}`);
    }
    since += text.length;
    if (since > max) throw fail(`record ${next} is longer than the limit of ${max} characters`);
    // (StreamArray's keys skip dropped elements: the index is counted here)
    for (const f of found) {
      if ('tooDeep' in f) {
        const excerpt = text.slice(text.match(/^[\s,]*/)![0].length).slice(0, 200);
        yield { line: next, rejected: { line: next, reason: `record ${next} ${TOO_DEEP}`, excerpt } };
      } else yield { line: next, value: f.value };
      next++;
      since = 0;
    }
    if (typeof piece === 'string') fileLine += countNewlines(piece);
  }

  function* feed(text: string): Generator<ArrayItem> {
    if (!content && /\S/.test(text)) content = true;
    let from = 0;
    while (from < text.length) {
      let end = from;
      while (end < text.length) {
        const c = text.charCodeAt(end++);
        if (c === 0x7d /* } */ || c === 0x5d /* ] */) break;
      }
      yield* push(text.slice(from, end));
      from = end;
    }
  }

  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 16, signal: options.signal })) {
      const buf = chunk as Buffer;
      const bad = checker.firstInvalid(buf);
      yield* feed(decoder.decode(bad === null ? buf : buf.subarray(0, Math.max(0, bad)), { stream: true }));
      if (bad !== null) throw fail(`the file is not valid UTF-8 (byte ${bytes + bad})`, '', fileLine);
      bytes += buf.length;
    }
    if (checker.endsIncomplete()) throw fail(`the file is not valid UTF-8 (it ends inside a character)`, '', fileLine);
    yield* feed(decoder.decode());
    if (!content) return;
    yield* push(NONE);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    yield { line: next, rejected: e.rejected };
  }
}
