// A teacher fleet: several OpenAI-compatible endpoints as one teacher. The endpoints are loopback servers written here
// (node:http), each answering a prompt with its reverse after its own delay, or failing the way the test says (500s,
// accepting and never answering, dying mid-run). Counts, never times: which endpoint answered how many, and every
// prompt answered exactly once in the run's answers.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, tempDir, type Workspace } from '../helpers/workspace.js';
import { runCli } from '../helpers/cli.js';
import { fleetRows } from '../../src-renderer/features/distill/FleetTable.js';
import { FleetTeacher } from '../../src-main/core/distill/fleet.js';

type Mode = 'ok' | '500' | 'hang';
interface Endpoint {
  url: string;
  host: string;
  mode: Mode;
  delayMs: number;
  /** Requests received, and answered with 200. */
  received: number;
  answered: number;
  /** Dies (closes its server and every connection) once it has answered this many. */
  killAfter: number | null;
  /** Called after each 200 (a test switches modes from here). */
  onAnswer?: () => void;
  kill(): void;
}
const open: http.Server[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const reverse = (s: string) => [...s].reverse().join('');

async function endpoint(delayMs: number, mode: Mode = 'ok', killAfter: number | null = null): Promise<Endpoint> {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
      e.received++;
      if (e.mode === '500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"overloaded"}');
      if (e.mode === 'hang') return; // accepted, never answered: the client's per-attempt timeout ends it
      const body = JSON.parse(raw) as { messages: { content: string }[] };
      const answer = reverse(body.messages.at(-1)!.content);
      setTimeout(() => {
        if (!server.listening || res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: answer.length },
          }),
        );
        e.answered++;
        e.onAnswer?.();
        if (e.killAfter !== null && e.answered >= e.killAfter) e.kill();
      }, e.delayMs);
    });
  });
  open.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const e: Endpoint = {
    url: `http://127.0.0.1:${port}/v1`,
    host: `127.0.0.1:${port}`,
    mode,
    delayMs,
    received: 0,
    answered: 0,
    killAfter,
    kill() {
      server.close();
      server.closeAllConnections(); // the requests in flight die with it
    },
  };
  return e;
}

const PROMPTS = Array.from({ length: 40 }, (_, i) => `question number ${i} of the fleet test`);

/** A workspace with the prompts as dataset `p` (each with its reverse as the reference answer). */
async function workspace(): Promise<Workspace> {
  const ws = makeWorkspace();
  const file = path.join(tempDir(), 'p.jsonl');
  fs.writeFileSync(file, PROMPTS.map((p) => JSON.stringify({ prompt: p, completion: reverse(p) })).join('\n'));
  await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'p' })).runId);
  return ws;
}

const fleetOf = (eps: Endpoint[], o: { concurrency?: number; maxRetries?: number } = {}) => ({
  endpoints: eps.map((e) => ({ baseUrl: e.url, model: 'big-teacher', concurrency: o.concurrency ?? 2, timeoutMs: 1000, maxRetries: o.maxRetries ?? 1 })),
});

async function distill(ws: Workspace, eps: Endpoint[], outName: string, o: { concurrency?: number; maxRetries?: number } = {}) {
  const { runId } = await ws.client.call('distill.start', { dataset: 'p', teacher: fleetOf(eps, o), generation: { maxTokens: 64, seed: 3 }, outName });
  return { runId, end: await ws.app.runner.waitFor(runId) };
}

/** Every prompt answered exactly once, with the right answer. */
async function expectEveryAnswerOnce(ws: Workspace, runId: number) {
  const page = await ws.client.call('distill.answers', { runId, limit: 500 });
  expect(page.total).toBe(PROMPTS.length);
  expect(new Set(page.rows.map((r) => r.position)).size).toBe(PROMPTS.length);
  expect(page.rows.map((r) => r.answer).sort()).toEqual(PROMPTS.map(reverse).sort());
}

/** The run's per-endpoint figures, by endpoint. */
async function figures(ws: Workspace, runId: number, prefix = '') {
  const run = await ws.client.call('runs.get', { id: runId });
  const at = (name: string, e: Endpoint) => run.metrics.find((m) => m.name === `${name}:${prefix}${e.host}`)?.value;
  return {
    run,
    of: (e: Endpoint) => ({
      answers: at('endpoint_answers', e),
      tokens: at('endpoint_tokens', e),
      tps: at('endpoint_tps', e),
      failures: at('endpoint_failures', e),
      drained: at('endpoint_drained', e),
    }),
  };
}

describe('a teacher fleet', () => {
  // one data folder for these runs (each writes its own output dataset)
  let ws: Workspace;
  let outs = 0;
  beforeAll(async () => {
    ws = await workspace();
  });
  afterAll(async () => {
    await ws.close();
  });
  const distillIn = (eps: Endpoint[], o: { concurrency?: number; maxRetries?: number } = {}) => distill(ws, eps, `out${++outs}`, o);

  it('spreads the prompts by measured speed: the fastest endpoint answers the most, every prompt once', async () => {
    const eps = [await endpoint(0), await endpoint(60), await endpoint(250)];
    const [fast, medium, slow] = eps as [Endpoint, Endpoint, Endpoint];
    const { runId, end } = await distillIn(eps);
    expect(end.error).toBeNull();
    await expectEveryAnswerOnce(ws, runId);
    // no request was sent twice: every answer the servers gave is one of the run's
    expect(fast.answered + medium.answered + slow.answered).toBe(PROMPTS.length);
    expect(fast.answered).toBeGreaterThan(medium.answered);
    expect(fast.answered).toBeGreaterThan(slow.answered);
    expect(slow.answered).toBeGreaterThan(0); // each endpoint was tried
    const f = await figures(ws, runId);
    for (const e of eps) {
      expect(f.of(e)).toMatchObject({ answers: e.answered, failures: 0, drained: 0 });
      expect(f.of(e).tps).toBeGreaterThan(0);
    }
    // tokens as the servers counted them (one per character of each answer)
    expect(eps.map((e) => f.of(e).tokens ?? 0).reduce((s, n) => s + n, 0)).toBe(PROMPTS.map((p) => p.length).reduce((s, n) => s + n, 0));
    expect(f.run.config).toMatchObject({ parallel: 6, teacher: { kind: 'fleet', endpoints: [{ name: fast.host, concurrency: 2 }, {}, {}] } });
    expect(f.run.lineage.filter((l) => l.kind === 'endpoint').map((l) => l.ref)).toEqual(expect.arrayContaining(eps.map((e) => `${e.url}#big-teacher`)));
  });

  it('drains an endpoint that answers 500: the run finishes on the other two, every answer once', async () => {
    const eps = [await endpoint(5), await endpoint(5), await endpoint(0, '500')];
    const bad = eps[2]!;
    const { runId, end } = await distillIn(eps);
    expect(end.error).toBeNull();
    await expectEveryAnswerOnce(ws, runId);
    expect(eps[0]!.answered + eps[1]!.answered).toBe(PROMPTS.length);
    const f = await figures(ws, runId);
    expect(f.of(bad)).toMatchObject({ answers: 0, drained: 1 });
    expect(f.of(bad).failures).toBeGreaterThanOrEqual(2);
    expect(f.run.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(new RegExp(`^${bad.host} is drained \\(.* answered 500`)));
    // the run page's table of endpoints, from the run's figures
    expect(fleetRows(f.run.metrics)).toEqual(
      expect.arrayContaining([
        { name: eps[0]!.host, answers: eps[0]!.answered, tps: expect.any(Number), failures: 0, drained: false },
        { name: eps[1]!.host, answers: eps[1]!.answered, tps: expect.any(Number), failures: 0, drained: false },
        { name: bad.host, answers: 0, tps: null, failures: f.of(bad).failures, drained: true },
      ]),
    );
    expect(fleetRows(f.run.metrics)).toHaveLength(3);
  });

  it('drains an endpoint that accepts requests and never answers (the per-attempt timeout), every answer once', async () => {
    const eps = [await endpoint(20), await endpoint(20), await endpoint(0, 'hang')];
    const hung = eps[2]!;
    const { runId, end } = await distillIn(eps, { maxRetries: 0 });
    expect(end.error).toBeNull();
    await expectEveryAnswerOnce(ws, runId);
    expect(hung.received).toBeGreaterThan(0);
    expect(eps[0]!.answered + eps[1]!.answered).toBe(PROMPTS.length);
    const f = await figures(ws, runId);
    expect(f.of(hung)).toMatchObject({ answers: 0, drained: 1 });
    expect(f.run.logs.map((l) => l.message)).toContainEqual(expect.stringContaining(`${hung.host} is drained (`));
    expect(f.run.logs.map((l) => l.message)).toContainEqual(expect.stringMatching(/gave no answer within 1000 ms/));
  });

  it('loses nothing when an endpoint dies mid-run', async () => {
    const eps = [await endpoint(10), await endpoint(10), await endpoint(10, 'ok', 4)];
    const dying = eps[2]!;
    const { runId, end } = await distillIn(eps);
    expect(end.error).toBeNull();
    await expectEveryAnswerOnce(ws, runId);
    const f = await figures(ws, runId);
    expect(dying.answered).toBe(4);
    expect(f.of(dying).drained).toBe(1);
    // the fleet took each answer once: its endpoints' answers add up to the prompts
    expect(eps.map((e) => f.of(e).answers ?? 0).reduce((s, n) => s + n, 0)).toBe(PROMPTS.length);
  });

  it("fails with each endpoint's reason when all are down, keeps the answers, and a resume completes them once", async () => {
    const eps = [await endpoint(5), await endpoint(5)];
    // both go down after 10 answers between them
    const down = () => eps[0]!.answered + eps[1]!.answered >= 10 && eps.forEach((e) => (e.mode = '500'));
    for (const e of eps) e.onAnswer = down;
    const { runId, end } = await distillIn(eps, { maxRetries: 0 });
    expect(end.status).toBe('failed');
    expect(end.error).toMatch(new RegExp(`every endpoint of the fleet is down \\(${eps[0]!.host}: .*500.*; ${eps[1]!.host}: .*500.*\\)`));
    const kept = Number(/; (\d+) answers are kept: resume the run when a server is back$/.exec(end.error!)?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect((await ws.client.call('distill.answers', { runId })).total).toBe(kept);

    for (const e of eps) {
      e.mode = 'ok';
      delete e.onAnswer;
    }
    await ws.client.call('runs.resume', { id: runId });
    const again = await ws.app.runner.waitFor(runId);
    expect(again.error).toBeNull();
    await expectEveryAnswerOnce(ws, runId);
    // the resumed run asked only for the missing answers (its fleet's figures replace the first attempt's)
    const f = await figures(ws, runId);
    expect(eps.map((e) => f.of(e).answers ?? 0).reduce((a, n) => a + n, 0)).toBe(PROMPTS.length - kept);
  });

  it('refuses a fleet of one, an endpoint listed twice and a bad concurrency, naming the field', async () => {
    const start = (endpoints: object[]) => ws.client.call('distill.start', { dataset: 'p', teacher: { endpoints } as never, outName: 'never' });
    const a = { baseUrl: 'http://127.0.0.1:9/v1', model: 'm' };
    await expect(start([a])).rejects.toMatchObject({ field: 'teacher.endpoints', message: expect.stringMatching(/a fleet has at least 2 endpoints/) });
    await expect(start([a, { ...a, baseUrl: `${a.baseUrl}/` }])).rejects.toMatchObject({
      field: 'teacher.endpoints',
      message: expect.stringMatching(/the same endpoint is listed twice/),
    });
    await expect(
      start([
        { ...a, concurrency: 0 },
        { ...a, baseUrl: 'http://127.0.0.2:9/v1' },
      ]),
    ).rejects.toMatchObject({
      field: 'teacher.endpoints.0.concurrency',
    });
  });

  it('answers an evaluation as one variant', async () => {
    const eps = [await endpoint(0), await endpoint(30)];
    const { runId } = await ws.client.call('evaluate.start', {
      dataset: 'p',
      split: 'all',
      variants: [{ kind: 'fleet', ...fleetOf(eps), label: 'fleet' }],
      metrics: ['exact'],
      divergence: false,
      systems: false,
    });
    const end = await ws.app.runner.waitFor(runId);
    expect(end.error).toBeNull();
    const report = await ws.client.call('evaluate.report', { runId });
    expect(report.leaderboard[0]).toMatchObject({ label: 'fleet' });
    expect(eps[0]!.answered + eps[1]!.answered).toBe(PROMPTS.length);
    const f = await figures(ws, runId, '0:');
    expect(eps.map((e) => f.of(e).answers)).toEqual(eps.map((e) => e.answered));
    await expect(
      ws.client.call('evaluate.start', { dataset: 'p', variants: [{ kind: 'fleet', endpoints: fleetOf(eps).endpoints.slice(0, 1) }] }),
    ).rejects.toThrow(/at least 2 endpoints/);
  });
});

describe('FleetTeacher', () => {
  it('sends requests to the endpoint measured fastest when none is saturated, after trying each once', async () => {
    const [fast, slow] = [await endpoint(0), await endpoint(150)] as [Endpoint, Endpoint];
    const fleet = new FleetTeacher({
      endpoints: [fast, slow].map((e) => ({ name: e.host, baseUrl: e.url, model: 'm', concurrency: 4, timeoutMs: 5000, maxRetries: 0 })),
    });
    // two at once: one to each (unmeasured endpoints count as fast), then one at a time
    await Promise.all(PROMPTS.slice(0, 2).map((p) => fleet.generate({ messages: [{ role: 'user', content: p }] })));
    expect([fast.answered, slow.answered]).toEqual([1, 1]);
    for (const p of PROMPTS.slice(2, 12)) expect((await fleet.generate({ messages: [{ role: 'user', content: p }] })).text).toBe(reverse(p));
    expect([fast.answered, slow.answered]).toEqual([11, 1]);
    expect(fleet.stats().map((s) => [s.answers, s.failures, s.drained])).toEqual([
      [11, 0, false],
      [1, 0, false],
    ]);
    fleet.close();
  });
});

describe('FleetTeacher, drained and back', () => {
  it('probes a drained endpoint after its cool-off and takes it back when it answers', async () => {
    const [good, flaky] = [await endpoint(0), await endpoint(0, '500')] as [Endpoint, Endpoint];
    const logs: string[] = [];
    const fleet = new FleetTeacher({
      endpoints: [good, flaky].map((e) => ({ name: e.host, baseUrl: e.url, model: 'm', concurrency: 2, timeoutMs: 5000, maxRetries: 0 })),
      coolOffMs: 50,
      log: (_, m) => logs.push(m),
    });
    const ask = (i: number) => fleet.generate({ messages: [{ role: 'user', content: PROMPTS[i % PROMPTS.length]! }] });
    await Promise.all([ask(0), ask(1)]); // one each: the 500 drains flaky, its request is answered by good
    expect(fleet.stats()[1]).toMatchObject({ answers: 0, failures: 1, drained: true });
    flaky.mode = 'ok';
    // requests one after another until the cool-off has passed and the probe went to flaky (bounded)
    for (let i = 2; flaky.answered === 0 && i < 10_000; i++) await ask(i);
    expect(flaky.answered).toBe(1);
    expect(fleet.stats()[1]).toMatchObject({ answers: 1, drained: false });
    expect(logs).toEqual([expect.stringMatching(/is drained .*answered 500/), `${flaky.host} answers again: it is back in the fleet.`]);
    fleet.close();
  });
});

describe('--teacher repeated, from a terminal', () => {
  it('makes a fleet of `distill` and `evaluate`, with each endpoint’s concurrency', async () => {
    const dir = tempDir();
    const ws = makeWorkspace({ dataDir: dir });
    const file = path.join(tempDir(), 'p.jsonl');
    fs.writeFileSync(
      file,
      PROMPTS.slice(0, 6)
        .map((p) => JSON.stringify({ prompt: p, completion: reverse(p) }))
        .join('\n'),
    );
    await ws.app.runner.waitFor((await ws.client.call('datasets.import', { path: file, name: 'p' })).runId);
    await ws.close();
    const [a, b] = [await endpoint(0), await endpoint(0)] as [Endpoint, Endpoint];

    const bad = await runCli('distill', '--dataset', 'p', '--teacher', '1', '--teacher', `${b.url}#m`, '--out-name', 'x', '--data-dir', dir);
    expect(bad.stderr).toBe('distillery: --teacher 1: a fleet is made of servers: give each as http(s)://host:port/v1#model\n');
    const noModel = await runCli('distill', '--dataset', 'p', '--teacher', a.url, '--teacher', `${b.url}#m`, '--out-name', 'x', '--data-dir', dir);
    expect(noModel.stderr).toMatch(/^distillery: --teacher http:\/\/127\.0\.0\.1:\d+\/v1: name the server's model after #/);

    const r = await runCli(
      'distill',
      '--dataset',
      'p',
      '--teacher',
      `${a.url}#big-teacher@3`,
      '--teacher',
      `${b.url}#big-teacher`,
      '--teacher-concurrency',
      '2',
      '--out-name',
      'out',
      '--data-dir',
      dir,
      '--json',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(a.answered + b.answered).toBe(6);
    const e = await runCli(
      'evaluate',
      '--dataset',
      'p:all',
      '--teacher',
      `${a.url}#big-teacher`,
      '--teacher',
      `${b.url}#big-teacher@1`,
      '--metrics',
      'exact',
      '--no-systems',
      '--no-divergence',
      '--data-dir',
      dir,
      '--json',
    );
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(a.answered + b.answered).toBe(12);

    const ws2 = makeWorkspace({ dataDir: dir });
    try {
      const runs = await ws2.client.call('runs.list', {});
      const distilled = runs.find((x) => x.kind === 'distill.generate')!;
      const evaluated = runs.find((x) => x.kind === 'evaluate.run')!;
      const d = await ws2.client.call('runs.get', { id: distilled.id });
      expect(d.config).toMatchObject({
        parallel: 5,
        teacher: {
          kind: 'fleet',
          endpoints: [
            { baseUrl: a.url, model: 'big-teacher', concurrency: 3 },
            { baseUrl: b.url, concurrency: 2 },
          ],
        },
      });
      const ev = await ws2.client.call('runs.get', { id: evaluated.id });
      expect(ev.config).toMatchObject({
        variants: [{ kind: 'server', server: { kind: 'fleet', endpoints: [{ concurrency: 8 }, { concurrency: 1 }] } }],
        teacher: 0,
      });
    } finally {
      await ws2.close();
    }
  });
});
