/**
 * `node --import tsx test/bench/import-child.ts FILE DATA_DIR`: imports FILE as dataset `bench` in a fresh process,
 * as the app would, and prints one JSON line: seconds, peak RSS (sampled every 50 ms) and RSS before the import. A
 * process of its own, so that the figures are the app's, not the benchmark harness's (browser driver, generator).
 */
import { createApp } from '../../src-main/core/app.js';
import { createClient } from '../../src-shared/client.js';

const [file, dataDir] = process.argv.slice(2) as [string, string];
const app = createApp({ dataDir, host: 'http', gpu: false });
const client = createClient({ call: app.call, subscribe: app.subscribe });
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const start = performance.now();
const { runId } = await client.call('datasets.import', { path: file, name: 'bench' });
const end = await app.runner.waitFor(runId);
const seconds = (performance.now() - start) / 1000;
clearInterval(sampler);
console.log(JSON.stringify({ status: end.status, seconds, peak, before }));
await app.close();
