import fs from 'node:fs';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { parse, type CsvError, type InfoRecord, type Options } from 'csv-parse';
import { DEFAULT_MAX_LINE_BYTES } from './line-reader.js';
import { Utf8Checker } from './utf8.js';

/** What reading a CSV/TSV file yields, in file order with strictly increasing lines. */
export type TableItem =
  | { kind: 'header'; line: number; columns: string[] }
  /** `badUtf8Column`: index of a field holding invalid UTF-8 (-1: somewhere in the row), undefined when the row is clean. */
  | { kind: 'row'; line: number; fields: string[]; excerpt: string; badUtf8Column?: number }
  | { kind: 'reject'; line: number; reason: string; excerpt: string };

const excerpt = (s: string) => s.replace(/\r?\n$/, '').slice(0, 200);
const countNewlines = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * Watches the bytes on their way to the parser: where each physical line starts (lines end at \n, as `readLines`
 * counts them) and which lines hold invalid UTF-8, which csv-parse would silently turn into U+FFFD. The parser
 * reports records by byte offset (its own line counter counts a CRLF inside quotes twice), so lines come from here.
 */
class LineIndex extends Transform {
  private offset = 0;
  private newlinesSeen = 0;
  private newlines: number[] = []; // offsets of \n bytes not yet passed by a lineOf() query
  private head = 0;
  private passed = 0; // \n bytes before the last lineOf() query
  private badLines: number[] = [];
  private badHead = 0;
  private endsWithNewline = false;
  private readonly checker = new Utf8Checker();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const local: number[] = [];
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) local.push(i);
    const firstLine = this.newlinesSeen + 1;
    let k = 0;
    this.checker.scan(chunk, (i) => {
      while (k < local.length && local[k]! < i) k++;
      this.markBad(firstLine + k);
    });
    for (const i of local) this.newlines.push(this.offset + i);
    this.newlinesSeen += local.length;
    this.offset += chunk.length;
    if (chunk.length > 0) this.endsWithNewline = chunk[chunk.length - 1] === 0x0a;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.checker.endsIncomplete()) this.markBad(this.newlinesSeen + 1);
    callback();
  }

  private markBad(line: number) {
    if (this.badLines.at(-1) !== line) this.badLines.push(line);
  }

  /** The 1-based line of the byte at `offset`; offsets must not decrease from one call to the next. */
  lineOf(offset: number): number {
    while (this.head < this.newlines.length && this.newlines[this.head]! < offset) {
      this.head++;
      this.passed++;
    }
    if (this.head > 65536) {
      this.newlines = this.newlines.slice(this.head);
      this.head = 0;
    }
    return this.passed + 1;
  }

  /** Whether a line in [from, to] holds invalid UTF-8; calls must not go back before an earlier `from`. */
  hasBadLine(from: number, to: number): boolean {
    while (this.badHead < this.badLines.length && this.badLines[this.badHead]! < from) this.badHead++;
    return this.badHead < this.badLines.length && this.badLines[this.badHead]! <= to;
  }

  /** The number of lines of everything read so far. */
  get lineCount(): number {
    return this.newlinesSeen + (this.offset > 0 && !this.endsWithNewline ? 1 : 0);
  }
}

function skipReason(err: CsvError | undefined, columns: string[] | null, max: number): string {
  const column = typeof err?.column === 'number' && columns?.[err.column] !== undefined ? ` in column "${columns[err.column]}"` : '';
  switch (err?.code) {
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `a quoted field${column} is followed by other characters after its closing quote (write "" for a quote inside quotes)`;
    case 'INVALID_OPENING_QUOTE':
      return `a quote appears inside an unquoted field${column} (quote the whole field and write "" for the quote)`;
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a quoted field${column} is never closed: the file ends inside quotes`;
    case 'CSV_MAX_RECORD_SIZE':
      return `the record is longer than the limit of ${max} characters (is a quote left open?); reading stopped here`;
    default:
      return err?.message ?? 'the record cannot be parsed';
  }
}

type Parsed = { items: TableItem[]; stop?: true };

/** Errors csv-parse may report in one record before the reading stops (see on_skip). */
const MAX_ERRORS_PER_RECORD = 50;
class TooManyErrors extends Error {}

/**
 * Streams a CSV (`delimiter` ',') or TSV ('\t') file with csv-parse in constant memory: the first record is the header,
 * then one row per record with the physical line it starts on, so a quoted field spanning lines does not shift the
 * lines of later rows. RFC 4180 quoting ("" inside quotes), a UTF-8 BOM and CRLF are accepted; quotes are not relaxed,
 * so a stray quote makes its record a reject. Records the parser cannot read come as rejects; the reader then goes on
 * (after an unbalanced quote the parser may only recover several lines later: the reject says which lines were lost).
 * A record longer than `maxLineBytes` characters stops the reading with a reject (csv-parse cannot resume after it).
 */
export async function* readTable(
  file: string,
  delimiter: ',' | '\t',
  options: { maxLineBytes?: number; signal?: AbortSignal } = {},
): AsyncGenerator<TableItem> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const index = new LineIndex();
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20, signal: options.signal });
  let pending: TableItem[] = [];
  let header: string[] | null = null;
  let stopped = false;
  let errors = 0; // since the last record read
  const inFlight: TableItem[][] = []; // records handed to the stream and not yet taken out (lost if it errors)
  const parser = parse({
    bom: true,
    delimiter,
    relax_quotes: false,
    relax_column_count: true, // a row with a wrong column count is reported by us, and the reading goes on
    skip_empty_lines: true,
    skip_records_with_error: true,
    raw: true,
    max_record_size: max,
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      if (stopped) return undefined;
      const line = index.lineOf(typeof err?.bytes === 'number' ? err.bytes : 0);
      const last = pending.at(-1);
      // csv-parse builds each error from the whole field read so far: thousands of stray quotes in one record cost
      // quadratic time (a 20 kB line took half a minute), so after a few the reading stops, right here
      if (++errors > MAX_ERRORS_PER_RECORD && last?.kind === 'reject') {
        stopped = true;
        last.reason += `; the record holds more than ${MAX_ERRORS_PER_RECORD} such errors, so reading stopped here`;
        throw new TooManyErrors();
      }
      if (last?.kind === 'reject' && last.line === line) return undefined; // the same record failing twice
      pending.push({ kind: 'reject', line, reason: skipReason(err, header, max), excerpt: excerpt(raw ?? '') });
      if (err?.code === 'CSV_MAX_RECORD_SIZE') {
        // csv-parse cannot resume after this error; the marker comes after the records already parsed
        stopped = true;
        parser.push({ items: [], stop: true } satisfies Parsed);
      }
      return undefined;
    },
    // our records are the items to yield, not csv-parse's string arrays
    on_record: ((record: unknown, context: InfoRecord): Parsed => {
      if (stopped) return { items: [] };
      errors = 0;
      const { record: fields, raw } = record as { record: string[]; raw: string };
      const end = index.lineOf(context.bytes - 1);
      const start = end - fields.reduce((n, f) => n + countNewlines(f), 0);
      const items = pending;
      pending = [];
      noteLostLines(items, start);
      let badUtf8Column: number | undefined;
      if (index.hasBadLine(start, end)) {
        const i = fields.findIndex((f) => f.includes('\uFFFD'));
        badUtf8Column = i;
      }
      if (header === null) {
        header = fields;
        items.push({ kind: 'header', line: start, columns: fields });
      } else {
        items.push({ kind: 'row', line: start, fields, excerpt: excerpt(raw), ...(badUtf8Column !== undefined ? { badUtf8Column } : {}) });
      }
      inFlight.push(items);
      return { items };
    }) as unknown as Options['on_record'],
  });
  pipeline(input, index, parser, () => {
    /* errors surface in the iteration below */
  });

  let lastLine = 0;
  let lastKind: TableItem['kind'] | null = null;
  function* emit(items: TableItem[]): Generator<TableItem> {
    for (const item of items) {
      if (item.line <= lastLine) {
        if (item.kind === 'reject' && lastKind === 'reject') continue; // already reported at this line
        item.line = lastLine + 1; // a file with lone CR line ends: keep lines increasing
      }
      lastLine = item.line;
      lastKind = item.kind;
      yield item;
    }
  }
  try {
    for await (const parsed of parser as AsyncIterable<Parsed>) {
      if (!parsed.stop) inFlight.shift();
      yield* emit(parsed.items);
      if (parsed.stop) break; // nothing more is read
    }
  } catch (e) {
    if (!(e instanceof TooManyErrors)) throw e;
    for (const items of inFlight.splice(0)) yield* emit(items); // the records read before it, then its reject (pending)
  }
  if (!stopped) noteLostLines(pending, index.lineCount + 1);
  yield* emit(pending);
}

/**
 * After records the parser skipped, say which lines each lost, up to the next item (the next record starts at
 * `next`): two skipped records in a row lose the lines between them too.
 */
function noteLostLines(items: TableItem[], next: number) {
  items.forEach((item, i) => {
    const until = items[i + 1]?.line ?? next;
    if (item.kind === 'reject' && until - 1 > item.line) item.reason += ` (lines ${item.line}–${until - 1} were not imported)`;
  });
}
