import fs from 'node:fs';

export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

export type LineResult = { line: number; text: string } | { line: number; error: string; excerpt: string };

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');
const excerptOf = (bytes: Buffer) => lenientUtf8.decode(bytes.subarray(0, 200));

/**
 * Streams a text file line by line with 1-based line numbers, in constant memory whatever the file size: a UTF-8 BOM
 * is dropped, CRLF is accepted, a line that is not valid UTF-8 or longer than `maxLineBytes` is reported (and its
 * bytes skipped, never buffered whole), and a last line without a newline is still read.
 */
export async function* readLines(file: string, options: { maxLineBytes?: number; signal?: AbortSignal } = {}): AsyncGenerator<LineResult> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let line = 1;
  let parts: Buffer[] = [];
  let size = 0;
  let oversized = false;
  let head: Buffer | null = null; // the first bytes of an oversized line, for the excerpt
  let first = true;

  const finish = (): LineResult | null => {
    let bytes = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (oversized) {
      const r: LineResult = { line, error: `the line is longer than the limit of ${max} bytes`, excerpt: excerptOf(head!) };
      oversized = false;
      head = null;
      return r;
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    if (first && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    first = false;
    try {
      return { line, text: fatalUtf8.decode(bytes) };
    } catch {
      return { line, error: 'the line is not valid UTF-8', excerpt: excerptOf(bytes) };
    }
  };

  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, signal: options.signal })) {
    const buf = chunk as Buffer;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl === -1 ? buf.length : nl;
      if (!oversized) {
        const piece = buf.subarray(start, end);
        if (size + piece.length > max) {
          oversized = true;
          head = Buffer.concat([...parts, piece]).subarray(0, 200);
          parts = [];
          size = 0;
        } else if (piece.length > 0) {
          parts.push(piece); // a view: read streams hand out a new Buffer per chunk, never reused
          size += piece.length;
        }
      }
      if (nl === -1) break;
      const r = finish();
      if (r) yield r;
      line++;
      start = nl + 1;
    }
  }
  if (size > 0 || oversized) {
    const r = finish();
    if (r) yield r;
  }
}
