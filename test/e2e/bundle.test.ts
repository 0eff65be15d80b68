import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/server.js';
import type { FromWorker } from '../../src-main/core/datasets/jobs/import-worker.js';

// The desktop app loads the import's reading thread from the main bundle's folder; Electron cannot run here, but the
// bundled file is plain ESM over Node's APIs: run it as the app would, on a real file.
describe('the bundled import worker (out/main/import-worker.js)', () => {
  it('reads and normalizes a file into batches', async () => {
    const worker = new Worker(path.join(REPO, 'out', 'main', 'import-worker.js'), {
      workerData: {
        role: 'read',
        file: path.join(REPO, 'test', 'datasets', 'samples', 'sharegpt.jsonl'),
        spec: { container: 'jsonl', record: 'sharegpt' },
        after: 0,
        batchSize: 1,
        batchBytes: 1_000_000,
        maxAhead: 10,
      },
    });
    const messages: FromWorker[] = [];
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        messages.push(m);
        if (m.type === 'done') resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
      worker.on('error', reject);
    });
    await worker.terminate();
    const batches = messages.filter((m) => m.type === 'batch');
    expect(batches).toHaveLength(2);
    expect(batches[1]!.batch.lines).toEqual([2]);
    expect(JSON.parse(batches[1]!.batch.messages[0]!)[0]).toEqual({ role: 'system', content: 'You are a support agent.' });
    expect(batches[1]!.batch.references[0]).toBe('Thanks, it ships tomorrow.');
  });
});
