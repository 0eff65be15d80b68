import { countPii } from '../../src-main/core/datasets/curation/pii.js';
import { nearDuplicateClusters } from '../../src-main/core/datasets/curation/dedupe.js';
import { randomText, rng, syntheticCorpus, vocabulary } from '../datasets/curation/corpus.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

function timed<T>(run: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = run();
  return { value, ms: Number((performance.now() - t0).toFixed(1)) };
}

/**
 * `npm run bench -- curation [--examples N]`: the speed of the curation passes in this process, one core, no SQLite.
 * One JSON line per figure (milliseconds or seconds), each with what was found, so a fast wrong answer shows:
 * - `pii_scan_200kb_ms`: countPii over ~200 kB holding 6,000 matches (was a < 2 s bound in pii.test.ts);
 * - `near_dedupe_template_6000_ms`: 6,000 items sharing one 560-character template, the worst case for LSH buckets
 *   (was a < 10 s bound in dedupe.test.ts);
 * - `near_dedupe_100k_seconds`: normalization, MinHash, LSH, verification and union-find over N (default 100,000)
 *   ~600-character examples with N/50 planted groups of 3 near duplicates (was test/datasets/curation/near-dup-speed.ts).
 */
export async function curationBench(args: string[]): Promise<void> {
  const i = args.indexOf('--examples');
  const count = i >= 0 ? Number(args[i + 1]) : 100_000;
  if (!(Number.isInteger(count) && count > 0)) throw new Error(`--examples needs a positive whole number, not ${args[i + 1]}`);

  const chunk = 'Contact ana@example.com or +44 20 7946 0958 about invoice 2024-01-15, version 1.2.3, host 10.0.0.1. ';
  const pii = timed(() => countPii(chunk.repeat(2000)));
  print({ metric: 'pii_scan_200kb_ms', value: pii.ms, found: pii.value });

  const random = rng(9);
  const template = randomText(random, vocabulary(random, 1000), 560);
  const shared = Array.from({ length: 6000 }, (_, id) => ({ id, text: `${template} ${id % 2 === 0 ? 'yes' : `answer ${id}`}` }));
  const one = timed(() => nearDuplicateClusters(shared, { threshold: 0.8 }).clusters);
  print({ metric: 'near_dedupe_template_6000_ms', value: one.ms, clusters: one.value.length, largest: one.value[0]?.ids.length ?? 0 });

  const { items, planted } = syntheticCorpus({ seed: 7, count, chars: 600, groups: Math.round(count / 50), groupSize: 3, editFraction: 0.03 });
  const avgChars = Math.round(items.reduce((n, it) => n + it.text.length, 0) / items.length);
  const near = timed(() => nearDuplicateClusters(items, { threshold: 0.8 }).clusters);
  const found = new Set(near.value.map((c) => c.ids.join(',')));
  print({
    metric: count === 100_000 ? 'near_dedupe_100k_seconds' : `near_dedupe_${count}_seconds`,
    value: Number((near.ms / 1000).toFixed(2)),
    examples: count,
    avgChars,
    clusters: near.value.length,
    plantedRecovered: planted.filter((g) => found.has(g.join(','))).length,
    planted: planted.length,
  });
}
