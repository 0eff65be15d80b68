/** Seeded mutations of valid files: what a damaged download, a bad writer or a hostile file looks like to a parser. */

/** The fuzzer's seeded generator: the app's own mulberry32, the same inputs for the same seed on every machine. */
export { mulberry32 as rng } from '../../src-main/core/random.js';

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x0a, 0x22, 0x5b, 0x7b, 0x2c, 0x5c, 0xc3, 0xe2];
/** Little-endian spans that, read as a count, length or offset, are huge, negative or off by one. */
const HUGE = [
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0x7f],
  [0x00, 0x00, 0x00, 0x80],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff, 0x0f], // a varint of 2^32 - 1
  [0xfe, 0xff, 0xff, 0xff, 0x07], // a zigzag varint of 2^30 - 1
];
const TEXT_INSERTS = [
  '"',
  '\\',
  '\n',
  '\r\n',
  ',',
  '\t',
  '{',
  '}',
  '[',
  ']',
  ':',
  'null',
  '""',
  '"\n"',
  '\uFEFF',
  '\u0000',
  '1e999',
  '-0',
  '99999999999999999999999',
  '\uD800',
];

export const MUTATIONS = ['flip', 'byte', 'huge', 'truncate', 'splice', 'duplicate', 'delete', 'deep', 'insert'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** One mutated input from `seeds`, and the mutations applied (1 to 4 of them). */
export function mutate(seeds: Buffer[], next: () => number, text: boolean): { input: Buffer; applied: Mutation[] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const at = (b: Buffer) => Math.floor(next() * (b.length + 1));
  let b = Buffer.from(pick(seeds));
  const applied: Mutation[] = [];
  const rounds = 1 + Math.floor(next() * 4);
  for (let r = 0; r < rounds; r++) {
    const m = pick(MUTATIONS);
    applied.push(m);
    const p = Math.min(at(b), Math.max(0, b.length - 1));
    switch (m) {
      case 'flip':
        if (b.length) b[p] = b[p]! ^ (1 << Math.floor(next() * 8));
        break;
      case 'byte':
        if (b.length) b[p] = pick(INTERESTING_BYTES);
        break;
      case 'huge': {
        const span = Buffer.from(pick(HUGE));
        b = Buffer.concat([b.subarray(0, p), span, b.subarray(Math.min(b.length, p + span.length))]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, p);
        break;
      case 'splice': {
        const other = pick(seeds);
        const from = Math.floor(next() * other.length);
        const len = Math.floor(next() * Math.min(64, other.length - from + 1));
        b = Buffer.concat([b.subarray(0, p), other.subarray(from, from + len), b.subarray(p + Math.floor(next() * 16))]);
        break;
      }
      case 'duplicate': {
        const len = Math.floor(next() * Math.min(256, b.length - p + 1));
        const times = 1 + Math.floor(next() * 20);
        b = Buffer.concat([b.subarray(0, p + len), ...Array<Buffer>(times).fill(b.subarray(p, p + len)), b.subarray(p + len)]);
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + Math.floor(next() * 32))]);
        break;
      case 'deep': {
        // nesting far past any limit, closed or not
        const depth = pick([70, 1_000, 30_000, 100_000]);
        const open = pick(['[', '{"a":', '[{"b":']);
        const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
        const closed = next() < 0.7;
        b = Buffer.concat([b.subarray(0, p), Buffer.from(open.repeat(depth) + '1' + (closed ? close.repeat(depth) : '')), b.subarray(p)]);
        break;
      }
      case 'insert': {
        const piece = text ? pick(TEXT_INSERTS) : String.fromCharCode(...Array.from({ length: 1 + Math.floor(next() * 8) }, () => Math.floor(next() * 256)));
        b = Buffer.concat([b.subarray(0, p), Buffer.from(piece, text ? 'utf8' : 'latin1'), b.subarray(p)]);
        break;
      }
    }
  }
  return { input: b, applied };
}
