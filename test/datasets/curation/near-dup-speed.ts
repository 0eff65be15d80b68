/**
 * Times near-duplicate clustering (normalization, MinHash signatures, LSH, verification, union-find) of 100,000
 * synthetic ~600-character examples with 2,000 planted groups of 3 near duplicates, on one core.
 * Run: node --import tsx test/datasets/curation/near-dup-speed.ts [count]
 * Prints one JSON line: {"metric":"near_dedupe_100k_seconds","value":…} (plus recall details on stderr).
 */
import { nearDuplicateClusters } from '../../../src-main/core/datasets/curation/dedupe.js';
import { syntheticCorpus } from './corpus.js';

const count = Number(process.argv[2] ?? 100_000);
const { items, planted } = syntheticCorpus({ seed: 7, count, chars: 600, groups: Math.round(count / 50), groupSize: 3, editFraction: 0.03 });
const avgChars = items.reduce((n, i) => n + i.text.length, 0) / items.length;

const start = performance.now();
const { clusters } = nearDuplicateClusters(items, { threshold: 0.8 });
const seconds = (performance.now() - start) / 1000;

const found = new Set(clusters.map((c) => c.ids.join(',')));
const exact = planted.filter((g) => found.has(g.join(','))).length;
process.stderr.write(
  `${count} examples (${avgChars.toFixed(0)} chars on average): ${clusters.length} clusters found, ${exact} of ${planted.length} planted groups recovered exactly\n`,
);
console.log(JSON.stringify({ metric: count === 100_000 ? 'near_dedupe_100k_seconds' : `near_dedupe_${count}_seconds`, value: Number(seconds.toFixed(2)) }));
