import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src-main/core/app.js';
import { FleetTeacher } from '../../src-main/core/distill/fleet.js';
import { createClient } from '../../src-shared/client.js';
import { TRAINERS } from '../../src-shared/domain/training.js';
import { writeChatFile } from './gen-chat.js';

const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const arg = (args: string[], name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};

/**
 * `npm run bench -- training [--case export|fleet] [--examples N] [--requests N]`:
 * - export: a dataset of N chat examples written as a training folder for each trainer (examples/s, folder size, peak
 *   RSS of the process);
 * - fleet: three loopback OpenAI-compatible servers of different speeds (40, 120 and 360 ms an answer, 4 at once each: slow enough that the HTTP work on 2 cores is not what is measured)
 *   as one teacher: the requests/s the fleet reaches against the sum of the servers' capacities, and each server's share
 *   against its share of that capacity (the scheduler spreads by measured throughput).
 */
export async function trainingBench(args: string[]): Promise<void> {
  const which = arg(args, '--case', 'all');
  if (which === 'all' || which === 'export') await exportBench(Number(arg(args, '--examples', '100000')));
  if (which === 'all' || which === 'fleet') await fleetBench(Number(arg(args, '--requests', '1200')));
}

async function exportBench(n: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distillery-bench-training-'));
  const file = path.join(dir, 'chat.jsonl');
  writeChatFile(file, n);
  const app = createApp({ dataDir: path.join(dir, 'data'), host: 'http', gpu: false });
  const client = createClient({ call: app.call, subscribe: app.subscribe });
  try {
    await app.runner.waitFor((await client.call('datasets.import', { path: file, name: 'bench' })).runId);
    for (const trainer of TRAINERS) {
      const outDir = path.join(dir, `out-${trainer}`);
      const t0 = performance.now();
      const { runId } = await client.call('training.export', { dataset: 'bench', trainer, studentHfId: 'org/bench', outDir });
      const end = await app.runner.waitFor(runId);
      const seconds = (performance.now() - t0) / 1000;
      const manifest = await client.call('training.manifest', { runId });
      const bytes = manifest.files.reduce((s, f) => s + f.bytes, 0);
      print({
        bench: 'training.export',
        trainer,
        status: end.status,
        examples: manifest.counts.train + manifest.counts.validation,
        seconds: +seconds.toFixed(2),
        examples_per_s: Math.round((manifest.counts.train + manifest.counts.validation) / seconds),
        folder_mb: +(bytes / 1e6).toFixed(1),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        target: 'examples_per_s >= 10000 (checksums included)',
      });
    }
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function fleetBench(requests: number): Promise<void> {
  const latencies = [40, 120, 360];
  const concurrency = 4;
  const servers = await Promise.all(
    latencies.map(async (ms) => {
      const state = { answered: 0 };
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () =>
          setTimeout(() => {
            state.answered++;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
                usage: { completion_tokens: 16 },
              }),
            );
          }, ms),
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { ms, state, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
    }),
  );
  const fleet = new FleetTeacher({
    endpoints: servers.map((s) => ({ name: `${s.ms}ms`, baseUrl: s.url, model: 'm', concurrency, timeoutMs: 10_000, maxRetries: 1 })),
  });
  const capacity = servers.reduce((sum, s) => sum + (concurrency * 1000) / s.ms, 0);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency * servers.length }, async () => {
      while (next < requests) {
        next++;
        await fleet.generate({ messages: [{ role: 'user', content: 'q' }], maxTokens: 16 });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  fleet.close();
  for (const s of servers) s.server.close();
  print({
    bench: 'training.fleet',
    requests,
    endpoints: servers.map((s) => `${s.ms}ms×${concurrency}`).join(', '),
    requests_per_s: Math.round(requests / seconds),
    capacity_per_s: Math.round(capacity),
    efficiency: +(requests / seconds / capacity).toFixed(2),
    shares: Object.fromEntries(servers.map((s) => [`${s.ms}ms`, +(s.state.answered / requests).toFixed(2)])),
    ideal_shares: Object.fromEntries(servers.map((s) => [`${s.ms}ms`, +((concurrency * 1000) / s.ms / capacity).toFixed(2)])),
    target: 'efficiency >= 0.8; each share within 0.1 of its ideal share',
  });
}
