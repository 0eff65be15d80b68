import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { readVerdict } from '../../src-main/core/distill/judge.js';
import { SecretsStore } from '../../src-main/core/secrets/store.js';
import { aesCipher, localCipher } from '../../src-main/core/secrets/cipher.js';

const JUDGE_KEY = 'sk-judge-secret-9f8e7d6c5b4a39281706';
let server: http.Server;
let url: string;
interface Seen {
  model: string;
  auth: string | undefined;
  responseFormat: unknown;
  user: string;
}
const seen: Seen[] = [];

/**
 * An OpenAI-compatible server of the test's own with two models. "teacher" answers a city question with JSON (one of
 * them with a population that breaks the schema). "judge" grades by the city it finds in the ANSWER: Paris 9 (JSON),
 * Lyon "Score: 4/10" (plain text, as a server that ignores response_format would), Nice no score at all, others 7.
 */
function reply(model: string, user: string): string {
  if (model === 'teacher') {
    const city = user.replace(/^capital of /, '');
    return JSON.stringify({ city, population: city === 'Bordeaux' ? 'many' : city.length * 1000 });
  }
  const answer = user.slice(user.indexOf('ANSWER:'));
  if (answer.includes('Paris')) return '{"score": 9, "reason": "a real capital"}';
  if (answer.includes('Lyon')) return 'Score: 4/10 - Lyon is not a capital.';
  if (answer.includes('Nice')) return 'I would rather not grade this.';
  return '{"score": 7, "reason": "plausible"}';
}

beforeAll(async () => {
  process.env.DISTILLERY_NO_KEYRING = '1'; // the key file, whatever keyring the developer's machine has
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; messages: { content: string }[]; response_format?: unknown };
      const user = body.messages.at(-1)!.content;
      seen.push({ model: body.model, auth: req.headers.authorization, responseFormat: body.response_format, user });
      if (body.model === 'judge' && req.headers.authorization !== `Bearer ${JUDGE_KEY}`) return void res.writeHead(401).end('{"error":"bad key"}');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: reply(body.model, user) }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  delete process.env.DISTILLERY_NO_KEYRING;
  await new Promise((r) => server.close(r));
});

const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, population: { type: 'integer' } },
  required: ['city', 'population'],
};

describe('filters: JSON schema match and an LLM judge; answers in and out by hand; saved API keys', () => {
  it('rejects answers that break the schema or score below the judge threshold, with the reason, and keeps the key encrypted', async () => {
    const ws: Workspace = makeWorkspace();
    try {
      const file = path.join(tempDir(), 'cities.jsonl');
      const cities = ['Paris', 'Lyon', 'Bordeaux', 'Nice', 'Rome'];
      fs.writeFileSync(file, cities.map((c) => JSON.stringify({ prompt: `capital of ${c}` })).join('\n'));
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'cities' })).runId);

      const saved = await ws.client.call('secrets.set', { name: 'judge-key', value: JUDGE_KEY });
      expect(saved.backend).toMatch(/^key file /);
      expect(fs.statSync(path.join(ws.dir, 'secrets.key')).mode & 0o777).toBe(0o600);
      const listed = await ws.client.call('secrets.list', {});
      expect(listed.secrets.map((s) => s.name)).toEqual(['judge-key']);
      expect(JSON.stringify(listed)).not.toContain(JUDGE_KEY);

      const { runId } = await ws.client.call('distill.start', {
        dataset: 'cities',
        teacher: { baseUrl: url, model: 'teacher' },
        jsonSchema: SCHEMA,
        judge: { teacher: { baseUrl: url, model: 'judge', apiKeySecret: 'judge-key' }, rubric: 'Names a real capital city.', threshold: 6 },
        parallel: 2,
        outName: 'capitals',
      });
      // 3 of 5 rejected is more than the default 50%: the run fails, with each reason and what to change
      const end = await ws.app.runner.waitFor(runId);
      expect(end.status).toBe('failed');
      expect(end.error).toBe(
        "3 of 5 answers were rejected (60%, above the 50% allowed): 2 scored below the judge's pass mark 6 (lower the pass mark or revise the rubric); " +
          '1 did not match the JSON schema (loosen the schema or tell the teacher about it in the prompt). ' +
          'The 2 kept answers stay in this run: resume it to write them anyway, or raise the max reject rate',
      );
      await expect(ws.client.call('datasets.get', { name: 'capitals' })).rejects.toMatchObject({ code: 'not_found' });
      // resuming is "write them anyway"
      await ws.client.call('runs.resume', { id: runId });
      expect(await ws.app.runner.waitFor(runId)).toMatchObject({ status: 'succeeded', error: null });
      const { rows, included, rejected } = await ws.client.call('distill.answers', { runId });
      const byCity = Object.fromEntries(rows.map((r) => [JSON.parse(r.answer).city as string, r]));
      expect(byCity.Bordeaux!.rejected).toBe('does not match the JSON schema: /population must be integer');
      expect(byCity.Bordeaux!.judgeScore).toBeNull(); // a rejected answer is not sent to the judge
      expect(byCity.Paris).toMatchObject({ rejected: null, included: true, judgeScore: 9, judgeReason: 'a real capital' });
      expect(byCity.Rome).toMatchObject({ rejected: null, included: true, judgeScore: 7 });
      expect(byCity.Lyon).toMatchObject({ included: false, judgeScore: 4 });
      expect(byCity.Lyon!.rejected).toMatch(/^judge: 4\/10 < 6/);
      expect(byCity.Nice).toMatchObject({ included: false, judgeScore: null });
      expect(byCity.Nice!.rejected).toMatch(/^judge: no score in its reply \("I would rather not grade this\."\)/);
      expect([included, rejected]).toEqual([2, 3]);

      const judgeCalls = seen.filter((s) => s.model === 'judge');
      expect(judgeCalls).toHaveLength(4);
      for (const call of judgeCalls)
        expect(call).toMatchObject({ auth: `Bearer ${JUDGE_KEY}`, user: expect.stringMatching(/^RUBRIC:\nNames a real capital city\./) });
      expect(judgeCalls[0]!.responseFormat).toMatchObject({ type: 'json_schema' });
      expect(seen.filter((s) => s.model === 'teacher' && s.auth !== undefined)).toEqual([]);

      const out = await ws.client.call('datasets.examples', { name: 'capitals', offset: 0, limit: 10 });
      expect(out.rows.map((r) => JSON.parse(r.messages.at(-1)!.content).city)).toEqual(['Paris', 'Rome']);
      const run = await ws.client.call('runs.get', { id: runId });
      expect(run.lineage).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'endpoint', label: `judge at ${new URL(url).host} (judge)` })]));

      // the key is in no database file, WAL or run record: only its ciphertext
      ws.app.db.pragma('wal_checkpoint(TRUNCATE)');
      for (const f of fs.readdirSync(ws.dir).filter((f) => /\.db/.test(f))) expect(fs.readFileSync(path.join(ws.dir, f)).includes(JUDGE_KEY)).toBe(false);
      expect(JSON.stringify(run)).not.toContain(JUDGE_KEY);
      // another process on the same folder (the CLI) decrypts it with the same key; a foreign key is refused clearly
      expect(new SecretsStore(ws.app.db, localCipher(ws.dir)).reveal('judge-key')).toBe(JUDGE_KEY);
      expect(() => new SecretsStore(ws.app.db, aesCipher(Buffer.alloc(32, 1), 'another key')).reveal('judge-key')).toThrow(
        /cannot be decrypted by another key/,
      );

      await expect(
        ws.client.call('distill.start', { dataset: 'cities', teacher: { baseUrl: url, model: 'm', apiKeySecret: 'nope' }, outName: 'x' }),
      ).rejects.toMatchObject({ code: 'invalid_input', field: 'teacher.apiKeySecret' });
      await expect(
        ws.client.call('distill.start', { dataset: 'cities', teacher: { baseUrl: url, model: 'm' }, jsonSchema: { type: 'no-such-type' }, outName: 'x' }),
      ).rejects.toMatchObject({ code: 'invalid_input', field: 'jsonSchema' });
    } finally {
      await ws.close();
    }
  });

  it('takes an included answer out of the output and puts a rejected one in, as undoable working-copy operations', async () => {
    const ws: Workspace = makeWorkspace();
    try {
      const file = path.join(tempDir(), 'cities.jsonl');
      fs.writeFileSync(file, ['Paris', 'Lyon', 'Rome'].map((c) => JSON.stringify({ prompt: `capital of ${c}` })).join('\n'));
      await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'cities' })).runId);
      const { runId } = await ws.client.call('distill.start', {
        dataset: 'cities',
        teacher: { baseUrl: url, model: 'teacher' },
        filters: { mustNotMatch: 'Lyon' },
        outName: 'caps',
      });
      expect((await ws.app.runner.waitFor(runId)).status).toBe('succeeded');
      const cityOf = (rows: { messages: { content: string }[] }[]) => rows.map((r) => JSON.parse(r.messages.at(-1)!.content).city as string);
      expect(cityOf((await ws.client.call('datasets.examples', { name: 'caps', offset: 0, limit: 10 })).rows)).toEqual(['Paris', 'Rome']);

      const out = await ws.client.call('distill.exclude', { runId, position: 1 });
      expect(out).toMatchObject({ outName: 'caps', removedFromWorkingCopy: true });
      const include = await ws.client.call('distill.include', { runId, position: 2 });
      expect(include.addedToWorkingCopy).toBe(true);
      expect(cityOf((await ws.client.call('datasets.examples', { name: 'caps', offset: 0, limit: 10 })).rows)).toEqual(['Rome', 'Lyon']);
      const answers = (await ws.client.call('distill.answers', { runId })).rows;
      expect(answers.map((a) => [a.included, a.rejected])).toEqual([
        [false, 'excluded by hand'],
        [true, 'matches /Lyon/'],
        [true, null],
      ]);
      await expect(ws.client.call('distill.exclude', { runId, position: 1 })).rejects.toMatchObject({ code: 'conflict' });
      // and back in: the same answer returns to the working copy
      await ws.client.call('distill.include', { runId, position: 1 });
      await ws.client.call('datasets.commit', { name: 'caps', message: 'curated by hand' });
      expect(cityOf((await ws.client.call('datasets.examples', { name: 'caps', version: 2, offset: 0, limit: 10 })).rows).sort()).toEqual([
        'Lyon',
        'Paris',
        'Rome',
      ]);
    } finally {
      await ws.close();
    }
  });

  it('reads a verdict from JSON, from "score: N" or "N/10" text, and finds none in prose', () => {
    expect(readVerdict('{"score": 8, "reason": "good"}')).toEqual({ score: 8, reason: 'good' });
    expect(readVerdict('Sure! {"score": "3", "reason": "meh"} hope that helps')).toEqual({ score: 3, reason: 'meh' });
    expect(readVerdict('{"score": 6, "reason": "cut off mid-sent')).toEqual({ score: 6, reason: 'cut off mid-sent' });
    expect(readVerdict('I give it 7/10.').score).toBe(7);
    expect(readVerdict('{"score": 42, "reason": "out of range"}').score).toBeNull();
    expect(readVerdict('no idea').score).toBeNull();
  });
});
