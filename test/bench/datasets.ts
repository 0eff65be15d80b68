import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src-main/core/app.js';
import { createClient } from '../../src-shared/client.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** An OpenAI-chat JSONL file of `n` varied examples (about 500 bytes each, as the 1M-example / 500 MB target). */
function writeChatFile(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  const topics = ['printer', 'invoice', 'login', 'refund', 'shipping', 'warranty', 'battery', 'screen', 'router', 'subscription'];
  let buf: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = topics[i % topics.length]!;
    buf.push(
      JSON.stringify({
        messages: [
          { role: 'system', content: 'You are a concise, friendly support agent for a hardware company.' },
          { role: 'user', content: `Ticket ${i}: my ${t} stopped working after the update on day ${i % 365}. What should I do? I already restarted it twice.` },
          { role: 'assistant', content: `Sorry about the ${t}. Please hold the reset button for ten seconds, then reinstall update ${i % 97}. If it still fails, reply with the serial number and we will replace it under warranty.` },
        ],
      }),
    );
    if (buf.length === 5000) {
      fs.writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  fs.closeSync(fd);
}

/** `npm run bench -- datasets [--examples N]`: import throughput and peak memory. */
export async function datasetsBench(args: string[]): Promise<void> {
  const i = args.indexOf('--examples');
  const n = i >= 0 ? Number(args[i + 1]) : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-datasets-'));
  const file = path.join(dir, 'chat.jsonl');
  writeChatFile(file, n);
  const bytes = fs.statSync(file).size;
  const app = createApp({ dataDir: path.join(dir, 'data'), host: 'http', gpu: false });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  const { runId } = await client.call('datasets.import', { path: file, name: 'bench' });
  const end = await app.runner.waitFor(runId);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const detail = await client.call('datasets.get', { name: 'bench', previewLimit: 0 });
  print({
    bench: 'datasets.import',
    status: end.status,
    examples: detail.version.exampleCount,
    mb: +(bytes / 1e6).toFixed(1),
    seconds: +seconds.toFixed(2),
    mb_per_s: +(bytes / 1e6 / seconds).toFixed(1),
    peak_rss_mb: +(peak / 1e6).toFixed(0),
    rss_before_mb: +(rssBefore / 1e6).toFixed(0),
    target: 'mb_per_s >= 40, peak_rss_mb < 400',
  });
  // Full-text search: 100 varied queries (1–2 words from the corpus, plus numbers), first page of 50 with the count.
  const words = ['printer', 'invoice', 'login', 'refund', 'shipping', 'warranty', 'battery', 'screen', 'router', 'subscription', 'reset', 'serial', 'update', 'restarted', 'replace'];
  const times: number[] = [];
  for (let q = 0; q < 100; q++) {
    const search = q % 3 === 0 ? `${words[q % words.length]} ${words[(q * 7) % words.length]}` : q % 3 === 1 ? words[q % words.length]! : `ticket ${q * 997}`;
    const t0 = performance.now();
    await client.call('datasets.examples', { name: 'bench', offset: 0, limit: 50, filter: { search } });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  print({ bench: 'datasets.search', examples: detail.version.exampleCount, queries: 100, p50_ms: +times[49]!.toFixed(1), p95_ms: +times[94]!.toFixed(1), target: 'p95_ms < 50' });
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
