/** A run of text in a word diff: kept (in both), added (only in the new text) or removed (only in the old one). */
export interface DiffPart {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

/**
 * Words with the whitespace around them (leading whitespace goes with the first word, the rest with the word before),
 * so joining the parts gives the text back.
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** Above this many LCS cells (after the common prefix and suffix are set aside) the middle is marked changed as a whole. */
const MAX_CELLS = 4_000_000;

/**
 * A word-level diff of `next` against `base` (longest common subsequence of words; whitespace does not count as a
 * difference). Consecutive parts of one kind are merged.
 */
export function wordDiff(base: string, next: string): DiffPart[] {
  const a = tokenize(base);
  const b = tokenize(next);
  const key = (w: string) => w.trim();
  let pre = 0;
  while (pre < a.length && pre < b.length && key(a[pre]!) === key(b[pre]!)) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && key(a[a.length - 1 - suf]!) === key(b[b.length - 1 - suf]!)) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const parts: DiffPart[] = [];
  const push = (kind: DiffPart['kind'], text: string) => {
    if (!text) return;
    const last = parts.at(-1);
    if (last && last.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  b.slice(0, pre).forEach((w) => push('same', w));
  if (am.length * bm.length > MAX_CELLS) {
    am.forEach((w) => push('removed', w));
    bm.forEach((w) => push('added', w));
  } else {
    for (const [kind, w] of lcsParts(am.map(key), bm.map(key), am, bm)) push(kind, w);
  }
  b.slice(b.length - suf).forEach((w) => push('same', w));
  return parts;
}

/** The classic dynamic programme: lengths of the LCS of every suffix pair, then one walk from the start. */
function lcsParts(ak: string[], bk: string[], a: string[], b: string[]): [DiffPart['kind'], string][] {
  const n = ak.length;
  const m = bk.length;
  const w = m + 1;
  const len = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i * w + j] = ak[i] === bk[j] ? len[(i + 1) * w + j + 1]! + 1 : Math.max(len[(i + 1) * w + j]!, len[i * w + j + 1]!);
    }
  }
  const out: [DiffPart['kind'], string][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (ak[i] === bk[j]) {
      out.push(['same', b[j]!]);
      i++;
      j++;
    } else if (len[(i + 1) * w + j]! >= len[i * w + j + 1]!) {
      out.push(['removed', a[i]!]);
      i++;
    } else {
      out.push(['added', b[j]!]);
      j++;
    }
  }
  for (; i < n; i++) out.push(['removed', a[i]!]);
  for (; j < m; j++) out.push(['added', b[j]!]);
  return out;
}

const words = (t: string) => t.match(/\S+/g)?.length ?? 0;

/** Words of `next` not in the common subsequence (added), and words of `base` missing from it (removed). */
export function diffCounts(parts: DiffPart[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const p of parts) {
    if (p.kind === 'added') added += words(p.text);
    else if (p.kind === 'removed') removed += words(p.text);
  }
  return { added, removed };
}
