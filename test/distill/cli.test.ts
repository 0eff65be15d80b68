import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/workspace.js';
import { callHttp as rawCall, startServer, type ServerProcess } from '../helpers/server.js';
import { runCli as distillery } from '../helpers/cli.js';

/** The value of an operation over serve's HTTP API, or its error thrown. */
async function callHttp(url: string, op: string, input: unknown): Promise<unknown> {
  const r = await rawCall(url, op, input);
  if (!r.ok) throw new Error(`${op}: ${r.error!.message}`);
  return r.value;
}
import { waitUntil } from '../helpers/workspace.js';

// The commands run in this process (test/helpers/cli.ts); `serve` is a real process, so `runs cancel` below still
// cancels a run that another process is running.
let server: ServerProcess;
const dir = tempDir();
beforeAll(async () => {
  // a data folder with the sample model and the sample dataset, prepared by serve, then released
  const first = await startServer(dir);
  await waitUntil(
    async () => ((await callHttp(first.url, 'runs.list', {})) as { status: string }[]).filter((r) => r.status === 'succeeded').length === 2,
    60_000,
    'the sample',
  );
  await first.stop();
});
afterAll(async () => {
  await server?.stop();
});

describe('distillery distill and runs, from a terminal', () => {
  it('distills a trial of the sample dataset with the sample model into a new dataset', async () => {
    const r = await distillery(
      'distill',
      '--dataset',
      'sample-support@1',
      '--teacher',
      '1',
      '--limit',
      '3',
      '--max-tokens',
      '8',
      '--keep-truncated',
      '--parallel',
      '2',
      '--out-name',
      'trial',
      '--json',
      '--data-dir',
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as { kind: string; status: string; metrics: { name: string; value: number }[] };
    expect(run).toMatchObject({ kind: 'distill.generate', status: 'succeeded' });
    expect(run.metrics.find((m) => m.name === 'answers')?.value).toBe(3);
    const shown = JSON.parse((await distillery('datasets', 'show', 'trial', '--json', '--data-dir', dir)).stdout) as { version: { exampleCount: number } };
    expect(shown.version.exampleCount).toBe(3);
    // structured answers from a schema file; soft labels from the local teacher
    const schema = path.join(dir, 'schema.json');
    fs.writeFileSync(schema, JSON.stringify({ type: 'object', properties: { urgent: { type: 'boolean' } }, required: ['urgent'] }));
    const structured = await distillery(
      'distill',
      '--dataset',
      'sample-support',
      '--teacher',
      '1',
      '--limit',
      '2',
      '--max-tokens',
      '40',
      '--json-schema',
      schema,
      '--out-name',
      'structured',
      '--json',
      '--data-dir',
      dir,
    );
    expect(structured.code).toBe(0);
    const sid = (JSON.parse(structured.stdout) as { id: number }).id;
    const answers = JSON.parse((await distillery('runs', 'show', String(sid), '--json', '--data-dir', dir)).stdout) as {
      metrics: { name: string; value: number }[];
    };
    expect(answers.metrics.find((m) => m.name === 'answers')?.value).toBe(2);
    const noSchema = await distillery(
      'distill',
      '--dataset',
      'sample-support',
      '--teacher',
      '1',
      '--json-schema',
      path.join(dir, 'nope.json'),
      '--out-name',
      'y',
      '--data-dir',
      dir,
    );
    expect(noSchema.stderr).toMatch(/^distillery: --json-schema: cannot read .*nope\.json \(ENOENT\)/);
    const soft = await distillery(
      'distill',
      '--dataset',
      'sample-support',
      '--teacher',
      '1',
      '--limit',
      '1',
      '--max-tokens',
      '6',
      '--logprobs',
      '3',
      '--keep-truncated',
      '--out-name',
      'soft',
      '--json',
      '--data-dir',
      dir,
    );
    expect(soft.code).toBe(0);
    const http = await distillery('distill', '--dataset', 'sample-support', '--teacher', 'http://127.0.0.1:9/v1', '--out-name', 'x', '--data-dir', dir);
    expect(http.code).toBe(2);
    expect(http.stderr).toBe('distillery: --model-name is required with an http(s) teacher\n');
    // a server that is not there: the run fails with the URL and the reason, after its retries
    const down = await distillery(
      'distill',
      '--dataset',
      'sample-support',
      '--teacher',
      'http://127.0.0.1:9/v1',
      '--model-name',
      'm',
      '--limit',
      '1',
      '--out-name',
      'x',
      '--data-dir',
      dir,
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions could not be reached/);
  });

  it('exits non-zero when a run keeps no answer, with what to change in one line', async () => {
    // every answer cut at 3 tokens: the run fails, the exit code says so, and the line says what to change
    const cut = await distillery(
      'distill',
      '--dataset',
      'sample-support',
      '--teacher',
      '1',
      '--limit',
      '3',
      '--max-tokens',
      '3',
      '--out-name',
      'cut',
      '--json',
      '--data-dir',
      dir,
    );
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /^distillery: run \d+ failed: all 3 answers hit max tokens 3; raise it or untick 'reject truncated' \(CLI: --keep-truncated\)\n$/,
    );
    expect(JSON.parse(cut.stdout)).toMatchObject({ kind: 'distill.generate', status: 'failed' });
    const rate = await distillery('distill', '--dataset', 'sample-support', '--teacher', '1', '--max-reject-rate', '2', '--out-name', 'y', '--data-dir', dir);
    expect(rate.code).toBe(1);
    expect(rate.stderr).toMatch(/maxRejectRate/);
  }, 180_000);

  it('cancels a run that serve is running, from another process, and resumes it here', async () => {
    server = await startServer(dir);
    const { runId } = (await callHttp(server.url, 'distill.start', {
      dataset: 'sample-support',
      teacher: { modelId: 1 },
      generation: { maxTokens: 256, temperature: 0 },
      filters: { truncated: false },
      parallel: 1,
      outName: 'long',
    })) as { runId: number };
    await waitUntil(
      async () => ((await callHttp(server.url, 'runs.get', { id: runId })) as { progress: { done: number } }).progress.done >= 1,
      60_000,
      'a first answer',
    );
    const cancel = await distillery('runs', 'cancel', String(runId), '--data-dir', dir);
    expect(cancel.stdout.trim()).toBe(`run ${runId}: cancelled`);
    expect(cancel.code).toBe(0);
    const answered = ((await callHttp(server.url, 'distill.answers', { runId })) as { total: number }).total;
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(24);
    await server.stop();

    const resumed = await distillery('runs', 'resume', String(runId), '--json', '--data-dir', dir);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: runId, status: 'succeeded' });
    const shown = JSON.parse((await distillery('datasets', 'show', 'long', '--json', '--data-dir', dir)).stdout) as { version: { exampleCount: number } };
    expect(shown.version.exampleCount).toBe(24);
  });
});
