import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeWorkspace, tempDir, waitUntil, type Workspace } from '../helpers/workspace.js';
import { fixtureModel } from '../fixtures/models.js';

// The OpenAI-compatible path against a real server: llama.cpp's llama-server (built from the bundled source by
// test/tools/build-llama-server.ts, once per run in test/fixtures/llama-tools-setup.ts; .ci/run builds it first) serving
// the fixture teacher on 127.0.0.1.
let server: ChildProcess;
let baseUrl: string;
let ws: Workspace;
let log = '';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const binary = inject('llamaServer');
  const port = await freePort();
  // --chat-template llama2: the fixture's own ChatML template names <|im_start|>, which the llama-spm vocabulary lacks as
  // a special token, so llama-server cannot feed its generation prompt to a grammar ("error initializing grammar
  // sampler"); a real ChatML model has the token. Llama-2's template has no generation prompt: grammars work.
  const args = [
    '-m',
    await fixtureModel('teacher'),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-c',
    '4096',
    '-np',
    '4',
    '-t',
    '1',
    '--alias',
    'fixture-teacher',
  ];
  server = spawn(binary, [...args, '--chat-template', 'llama2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  baseUrl = `http://127.0.0.1:${port}/v1`;
  await waitUntil(
    async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true,
    60_000,
    `llama-server to start:\n${log.slice(-2000)}`,
  );
  ws = makeWorkspace();
  const file = path.join(tempDir(), 'prompts.jsonl');
  fs.writeFileSync(file, Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `Question ${i + 1}: what does error E-${i} mean?` })).join('\n'));
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'prompts' })).runId);
});

afterAll(async () => {
  await ws?.close();
  server?.kill('SIGTERM');
});

describe('distillation against llama-server', () => {
  it('answers every prompt through the OpenAI-compatible API, with top-k log-probabilities kept as soft labels', async () => {
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { baseUrl, model: 'fixture-teacher' },
      generation: { temperature: 0, maxTokens: 12, seed: 5 },
      filters: { truncated: false, refusals: false },
      logprobs: 3,
      parallel: 4,
      outName: 'served',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    const answers = await ws.client.call('distill.answers', { runId });
    expect(answers.total).toBe(6);
    for (const a of answers.rows) {
      expect(a.completionTokens).toBeGreaterThan(0);
      const soft = await ws.client.call('distill.logprobs', { runId, position: a.position });
      expect(soft!.k).toBe(3);
      expect(soft!.tokens).toHaveLength(a.completionTokens!);
      expect(soft!.tokens.map((t) => t.token).join('')).toBe(a.answer);
      for (const t of soft!.tokens) {
        expect(t.logprob).toBeLessThanOrEqual(0);
        expect(t.top).toHaveLength(3);
      }
    }
    expect((await ws.client.call('datasets.get', { name: 'served' })).version.exampleCount).toBe(6);
  });

  it('structured answers through response_format fit the schema, and llama-server can be the judge', async () => {
    const schema = {
      type: 'object',
      properties: { code: { type: 'string', enum: ['E1', 'E2'] }, severity: { type: 'integer', minimum: 1, maximum: 3 } },
      required: ['code', 'severity'],
    };
    const { runId } = await ws.client.call('distill.start', {
      dataset: 'prompts',
      teacher: { baseUrl, model: 'fixture-teacher' },
      generation: { temperature: 0, maxTokens: 64, seed: 5 },
      filters: { truncated: true, refusals: false },
      jsonSchema: schema,
      judge: { teacher: { baseUrl, model: 'fixture-teacher' }, rubric: 'The severity fits the error.', threshold: 1, maxTokens: 64 },
      parallel: 4,
      maxRejectRate: 1, // this test is about the server's JSON; answers cut at 64 tokens may be most of them
      outName: 'served-json',
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    const { rows } = await ws.client.call('distill.answers', { runId });
    expect(rows).toHaveLength(6);
    for (const a of rows) {
      // every answer the server finished is JSON that fits (enum and range included: the grammar enforces them)
      if (a.finishReason === 'length') continue;
      const v = JSON.parse(a.answer) as { code: string; severity: number };
      expect(['E1', 'E2']).toContain(v.code);
      expect([1, 2, 3]).toContain(v.severity);
      expect(a.rejected).toBeNull();
      // the judge answered through response_format too: a score on the scale
      expect(a.judgeScore).toBeGreaterThanOrEqual(1);
      expect(a.judgeScore).toBeLessThanOrEqual(10);
    }
    expect(rows.filter((a) => a.finishReason !== 'length').length).toBeGreaterThan(0);
  });
});
