import { mulberry32 } from '../../../src-main/core/random.js';
/** Seeded synthetic text for the curation tests and the near-duplicate speed script. */

export const rng = mulberry32;

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** `size` distinct pseudo-words of 2–10 letters. */
export function vocabulary(random: () => number, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 9);
    let w = '';
    for (let i = 0; i < n; i++) w += LETTERS[Math.floor(random() * 26)];
    words.add(w);
  }
  return [...words];
}

/** Zipf-like pick (index ~ size·u²): common words are common, as in prose. */
const pick = (random: () => number, vocab: readonly string[]) => vocab[Math.floor(random() * random() * vocab.length)]!;

/** Words (with an occasional full stop) up to at least `chars` characters. */
export function randomText(random: () => number, vocab: readonly string[], chars: number): string {
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    let w = pick(random, vocab);
    if (random() < 0.08) w += '.';
    words.push(w);
    length += w.length + 1;
  }
  return words.join(' ');
}

/** Replaces, deletes or inserts a word at `fraction` of the word positions (at least one edit). */
export function editWords(random: () => number, text: string, fraction: number, vocab: readonly string[]): string {
  const words = text.split(' ');
  const edits = Math.max(1, Math.round(words.length * fraction));
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * words.length);
    const op = random();
    if (op < 0.6) words[at] = pick(random, vocab);
    else if (op < 0.8 && words.length > 1) words.splice(at, 1);
    else words.splice(at, 0, pick(random, vocab));
  }
  return words.join(' ');
}

export interface SyntheticCorpus {
  items: { id: number; text: string }[];
  /** The planted near-duplicate groups (ids ascending, groups by first id). */
  planted: number[][];
}

/**
 * `count` conversations of about `chars` characters; `groups` of them are near-duplicate groups of `groupSize`: an
 * original and edited copies (`editFraction` of the words changed each), scattered over the ids.
 */
export function syntheticCorpus({
  seed,
  count,
  chars = 600,
  groups = 0,
  groupSize = 3,
  editFraction = 0.02,
  vocabularySize = 5000,
}: {
  seed: number;
  count: number;
  chars?: number;
  groups?: number;
  groupSize?: number;
  editFraction?: number;
  vocabularySize?: number;
}): SyntheticCorpus {
  const random = rng(seed);
  const vocab = vocabulary(random, vocabularySize);
  const texts: string[] = [];
  const groupOf: number[] = [];
  for (let g = 0; g < groups; g++) {
    const original = randomText(random, vocab, chars);
    texts.push(original);
    groupOf.push(g);
    for (let k = 1; k < groupSize; k++) {
      texts.push(editWords(random, original, editFraction, vocab));
      groupOf.push(g);
    }
  }
  while (texts.length < count) {
    texts.push(randomText(random, vocab, chars));
    groupOf.push(-1);
  }
  // Scatter: a seeded permutation of the ids.
  const order = texts.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const items = order.map((from, id) => ({ id, text: `[user] Question ${id % 97}\n[assistant] ${texts[from]!}` }));
  const byGroup = new Map<number, number[]>();
  order.forEach((from, id) => {
    const g = groupOf[from]!;
    if (g < 0) return;
    const list = byGroup.get(g);
    if (list) list.push(id);
    else byGroup.set(g, [id]);
  });
  const planted = [...byGroup.values()].map((ids) => ids.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);
  return { items, planted };
}
