import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../src-main/core/app.js';
import { startHttpHost } from '../../src-main/server/http-host.js';
import { createClient, type Client } from '../../src-shared/client.js';
import { launchBrowser } from '../e2e/browser.js';
import { REPO } from '../helpers/server.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** `npm run bench -- datasets [--examples N]`: import throughput and peak memory. */
export async function datasetsBench(args: string[]): Promise<void> {
  const i = args.indexOf('--examples');
  const n = i >= 0 ? Number(args[i + 1]) : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-datasets-'));
  const file = path.join(dir, 'chat.jsonl');
  // Generated in a child process, so that the generator's garbage is not counted in the import's peak memory.
  execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'bench', 'gen-chat.ts'), file, String(n)], { stdio: 'inherit' });
  const bytes = fs.statSync(file).size;
  const child = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'bench', 'import-child.ts'), file, path.join(dir, 'data')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!,
  ) as { status: string; seconds: number; peak: number; before: number };
  const app = createApp({ dataDir: path.join(dir, 'data'), host: 'http', gpu: false });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  const detail = await client.call('datasets.get', { name: 'bench', previewLimit: 0 });
  print({
    bench: 'datasets.import',
    status: child.status,
    examples: detail.version.exampleCount,
    mb: +(bytes / 1e6).toFixed(1),
    seconds: +child.seconds.toFixed(2),
    mb_per_s: +(bytes / 1e6 / child.seconds).toFixed(1),
    peak_rss_mb: +(child.peak / 1e6).toFixed(0),
    rss_before_mb: +(child.before / 1e6).toFixed(0),
    target: 'mb_per_s >= 40, peak_rss_mb < 400',
  });
  // Full-text search: 100 varied queries (1–2 words from the corpus, plus numbers), first page of 50 with the count.
  const words = [
    'printer',
    'invoice',
    'login',
    'refund',
    'shipping',
    'warranty',
    'battery',
    'screen',
    'router',
    'subscription',
    'reset',
    'serial',
    'update',
    'restarted',
    'replace',
  ];
  const times: number[] = [];
  for (let q = 0; q < 100; q++) {
    const search = q % 3 === 0 ? `${words[q % words.length]} ${words[(q * 7) % words.length]}` : q % 3 === 1 ? words[q % words.length]! : `ticket ${q * 997}`;
    const t0 = performance.now();
    await client.call('datasets.examples', { name: 'bench', offset: 0, limit: 50, filter: { search } });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  print({
    bench: 'datasets.search',
    examples: detail.version.exampleCount,
    queries: 100,
    p50_ms: +times[49]!.toFixed(1),
    p95_ms: +times[94]!.toFixed(1),
    target: 'p95_ms < 50',
  });

  await dedupeBench(client, app, dir);
  await scrollBench(app, detail.version.exampleCount);
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Near-duplicate detection (MinHash + LSH at 0.85) over 100,000 examples, 5% of them lightly edited copies. */
async function dedupeBench(client: Client, app: App, dir: string): Promise<void> {
  const n = 100_000;
  const file = path.join(dir, 'near.jsonl');
  const fd = fs.openSync(file, 'w');
  const syllables = 'ka lo mi ne ru ta vi zo pe su da fi go hu ja be co du ex ro an el is om ul'.split(' ');
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const word = () => syllables[Math.floor(rnd() * 25)]! + syllables[Math.floor(rnd() * 25)]! + syllables[Math.floor(rnd() * 25)]!;
  const texts: string[] = [];
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    let text: string;
    if (i > 100 && rnd() < 0.05) {
      const words = texts[Math.floor(rnd() * texts.length)]!.split(' ');
      words[Math.floor(rnd() * words.length)] = word(); // one word in ~90 changed
      text = words.join(' ');
    } else text = Array.from({ length: 90 }, word).join(' ');
    if (texts.length < 20_000) texts.push(text);
    lines.push(JSON.stringify({ prompt: text.slice(0, 200), completion: text.slice(200) }));
    if (lines.length === 5000) {
      fs.writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  fs.closeSync(fd);
  await app.runner.waitFor((await client.call('datasets.import', { path: file, name: 'near' })).runId);
  const t0 = performance.now();
  const { runId } = await client.call('datasets.dedupe', { name: 'near', near: 0.85 });
  const end = await app.runner.waitFor(runId);
  const seconds = (performance.now() - t0) / 1000;
  const run = await client.call('runs.get', { id: runId });
  const metric = (name: string) => run.metrics.find((m) => m.name === name)?.value ?? null;
  print({
    bench: 'datasets.near_dedupe',
    status: end.status,
    examples: n,
    threshold: 0.85,
    clusters: metric('clusters'),
    duplicates: metric('duplicates'),
    seconds: +seconds.toFixed(2),
    target: 'seconds < 60',
  });
}

/**
 * The browse table in Debian Chromium, scrolled from the first row to the last (600 steps, one per frame) while pages
 * load from the app over HTTP; frame times from performance.now() between requestAnimationFrame callbacks, with the
 * frame-rate limit off so that a frame takes as long as its work.
 */
async function scrollBench(app: App, rows: number): Promise<void> {
  const staticDir = path.join(REPO, 'out', 'renderer');
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) {
    print({ bench: 'datasets.scroll', error: 'out/renderer is missing: run npm run build first' });
    return;
  }
  const host = await startHttpHost({ app, port: 0, staticDir });
  // Unthrottled frames: each rAF interval is then the frame's own work (layout, React, paint), not the 60 Hz vsync wait.
  const browser = await launchBrowser(['--disable-frame-rate-limit', '--disable-gpu-vsync']);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${host.url}/#/datasets/bench`);
    await page.getByTestId('example-1').waitFor({ timeout: 60_000 });
    // A string, not a function: tsx would wrap named functions in a helper the page does not have.
    const frames = (await page.evaluate(`(async () => {
      const el = document.querySelector('[data-testid=examples-table]');
      const step = (el.scrollHeight - el.clientHeight) / 600;
      const times = [];
      let last = performance.now();
      await new Promise((resolve) => {
        const tick = () => {
          const now = performance.now();
          times.push(now - last);
          last = now;
          if (el.scrollTop >= el.scrollHeight - el.clientHeight - 1) return resolve();
          el.scrollTop = Math.min(el.scrollTop + step, el.scrollHeight);
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      return times.slice(1);
    })()`)) as number[];
    const reachedLastRow = await page
      .getByTestId(`example-${rows}`)
      .waitFor({ timeout: 20_000 })
      .then(() => true)
      .catch(() => false);
    frames.sort((a, b) => a - b);
    const pct = (p: number) => +frames[Math.min(frames.length - 1, Math.floor(frames.length * p))]!.toFixed(1);
    print({
      bench: 'datasets.scroll',
      rows,
      frames: frames.length,
      p50_ms: pct(0.5),
      p95_ms: pct(0.95),
      max_ms: pct(1),
      reached_last_row: reachedLastRow,
      target: 'p95_ms < 20',
    });
  } finally {
    await browser.close();
    await host.close();
  }
}
