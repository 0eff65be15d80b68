import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeWorkspace, waitUntil } from '../helpers/workspace.js';
import { REPO } from '../helpers/server.js';

describe('sample workspace', () => {
  it('a new data folder starts with a demo model and a sample dataset, added once', async () => {
    const resources = path.join(REPO, 'resources');
    const first = makeWorkspace({ sampleResourcesDir: resources });
    await waitUntil(async () => (await first.client.call('runs.list', {})).length === 2, 20_000, 'the sample runs');
    const runs = await first.client.call('runs.list', {});
    expect(runs.map((r) => r.kind).sort()).toEqual(['datasets.import', 'system.sample']);
    for (const r of runs) expect((await first.app.runner.waitFor(r.id)).status).toBe('succeeded');
    const [dataset] = await first.client.call('datasets.list', {});
    expect(dataset).toMatchObject({ name: 'sample-support', latest: { number: 1, exampleCount: 24 } });
    const models = await first.client.call('models.list', {});
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({
      name: 'tiny-demo-llama',
      roles: ['student'],
      status: 'ok',
      path: path.join(first.dir, 'sample', 'tiny-demo-llama.gguf'),
      summary: { architecture: 'llama', hasChatTemplate: true, vocabSize: 32000, embeddingLength: 256 },
    });
    expect(models[0]!.note).toMatch(/random weights/);
    await first.close();

    // The user removes it; a later start does not bring it back
    const again = makeWorkspace({ dataDir: first.dir, sampleResourcesDir: resources });
    await again.client.call('models.remove', { id: models[0]!.id });
    await again.close();
    const third = makeWorkspace({ dataDir: first.dir, sampleResourcesDir: resources });
    expect(await third.client.call('models.list', {})).toEqual([]);
    expect((await third.client.call('runs.list', {})).length).toBe(2);
    expect(fs.existsSync(models[0]!.path)).toBe(true);
    await third.close();
  });
});
