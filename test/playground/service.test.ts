import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { LlmEngine } from '../../src-main/core/llm/engine.js';
import { PlaygroundService } from '../../src-main/core/playground/service.js';
import { Sampling, type ChatTurn, type GenerationEvent } from '../../src-shared/domain/playground.js';
import { AppError } from '../../src-shared/errors.js';
import { fixtureModel } from '../fixtures/models.js';
import { recordPlaygroundEvents } from './recorder.js';

const MODELS: Record<number, string> = {};
const MISSING_ID = 99;
let engine: LlmEngine;
let service: PlaygroundService;
const rec = recordPlaygroundEvents();

beforeAll(async () => {
  MODELS[1] = await fixtureModel('teacher');
  MODELS[2] = await fixtureModel('student');
  MODELS[MISSING_ID] = path.join(os.tmpdir(), 'distillery-no-such-model.gguf');
  engine = new LlmEngine({ gpu: false });
  service = new PlaygroundService({
    engine,
    emit: rec.emit,
    threads: () => null,
    resolveAdapters: () => [],
    resolveModel: (id) => {
      const p = MODELS[id];
      if (!p) throw new AppError('not_found', `there is no model ${id} in the library`);
      return { path: p, name: path.basename(p) };
    },
  });
});

afterAll(async () => {
  await service.close();
  await engine.dispose();
});

const sampling = (over: Partial<Sampling> = {}): Sampling => ({ ...Sampling.parse({}), ...over });

async function generate(
  over: { modelId?: number; mode?: 'chat' | 'completion'; prompt?: string; systemPrompt?: string; sampling?: Sampling; history?: ChatTurn[] } = {},
) {
  const { generationId } = service.generate({
    modelId: over.modelId ?? 1,
    mode: over.mode ?? 'completion',
    prompt: over.prompt ?? 'Once upon a time',
    systemPrompt: over.systemPrompt ?? '',
    sampling: over.sampling ?? sampling({ maxTokens: 24, seed: 7 }),
    adapters: [],
    history: over.history ?? [],
  });
  return { id: generationId, end: await rec.end(generationId) };
}

function done(e: GenerationEvent) {
  if (e.type !== 'done') throw new Error(`expected a done event, got ${JSON.stringify(e)}`);
  return e;
}

describe('playground service on the fixture models', () => {
  it('streams a completion: loading, started, several token events, then done with consistent stats', async () => {
    const { id, end } = await generate({ sampling: sampling({ maxTokens: 40, seed: 1, temperature: 0.8 }) });
    const d = done(end);
    const events = rec.of(id);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('loading');
    expect(types.indexOf('started')).toBeLessThan(types.indexOf('token'));
    expect(types.at(-1)).toBe('done');
    const loading = events.filter((e) => e.type === 'loading');
    expect(loading.at(-1)).toMatchObject({ progress: 1 });

    const tokens = events.flatMap((e) => (e.type === 'token' ? [e] : []));
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.map((t) => t.text).join('')).toBe(d.text);
    expect(tokens.reduce((n, t) => n + t.tokens, 0)).toBe(d.stats.generatedTokens);

    const { stats } = d;
    expect(stats.generatedTokens).toBeGreaterThan(1);
    expect(stats.generatedTokens).toBeLessThanOrEqual(40);
    expect(stats.stopReason).toBe(stats.generatedTokens === 40 ? 'maxTokens' : 'eos');
    const started = events.find((e) => e.type === 'started');
    expect(started).toMatchObject({ mode: 'completion', promptTokens: stats.promptTokens });
    expect(stats.promptTokens).toBeGreaterThanOrEqual(4);
    expect(stats.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(stats.tokensPerSecond).toBeGreaterThan(0);
    expect(stats.totalMs).toBeGreaterThanOrEqual(stats.loadMs);
    expect(stats.chatWrapper).toBeNull();
  }, 30_000);

  it('gives the same text for the same seed, and another for another seed', async () => {
    const s = sampling({ maxTokens: 16, temperature: 1, seed: 1234 });
    const a = done((await generate({ sampling: s })).end);
    const b = done((await generate({ sampling: s })).end);
    const c = done((await generate({ sampling: { ...s, seed: 99 } })).end);
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  }, 30_000);

  it('stops mid-way at once, keeping the text so far', async () => {
    const { generationId } = service.generate({
      modelId: 1,
      mode: 'completion',
      prompt: 'The list goes on and on',
      systemPrompt: '',
      sampling: sampling({ maxTokens: 5000, seed: 3 }),
      adapters: [],
    });
    // Stop inside the first token event: every token generated so far was just sent with it, so any token counted after
    // it was generated after the stop.
    let tokensAtStop: number | null = null;
    const off = rec.subscribe((e) => {
      if (e.generationId !== generationId || e.type !== 'token' || tokensAtStop !== null) return;
      tokensAtStop = e.tokens;
      expect(service.stop(generationId)).toEqual({ stopped: true });
    });
    const d = done(await rec.end(generationId));
    off();
    expect(tokensAtStop).not.toBeNull();
    expect(d.stats.generatedTokens - tokensAtStop!).toBeLessThanOrEqual(1); // at most the token being decoded
    expect(d.stats.stopReason).toBe('cancelled');
    expect(d.stats.generatedTokens).toBeGreaterThan(0);
    expect(d.stats.generatedTokens).toBeLessThan(5000);
    const streamed = rec.of(generationId).flatMap((e) => (e.type === 'token' ? [e.text] : []));
    expect(streamed.join('')).toBe(d.text);
    expect(service.stop(generationId)).toEqual({ stopped: false });
  }, 30_000);

  it('uses the chat template in chat mode on the teacher, with the system prompt', async () => {
    const plain = done((await generate({ mode: 'completion', prompt: 'Hello there' })).end);
    const { end } = await generate({ mode: 'chat', prompt: 'Hello there', systemPrompt: 'You are terse.' });
    const d = done(end);
    expect(d.stats.chatWrapper).toBeTruthy();
    // the template wraps the prompt in role markers and adds the system prompt: many more tokens than the bare text
    expect(d.stats.promptTokens).toBeGreaterThan(plain.stats.promptTokens + 5);
    expect(d.stats.generatedTokens).toBeGreaterThan(0);
  }, 30_000);

  it('renders the earlier turns of a chat with the template before the new message (multi-turn)', async () => {
    const alone = done((await generate({ mode: 'chat', prompt: 'And then?' })).end);
    const history: ChatTurn[] = [
      { role: 'user', content: 'Tell me about the old lighthouse keeper and his cat' },
      { role: 'assistant', content: 'He lived alone on the rock with a grey cat named Smoke.' },
    ];
    const withHistory = done((await generate({ mode: 'chat', prompt: 'And then?', history })).end);
    // the prompt the model saw holds both earlier turns (their words, plus a role marker each), not only the new message
    const historyTokens = history.reduce((n, t) => n + t.content.split(/\s+/).length, 0);
    expect(withHistory.stats.promptTokens).toBeGreaterThan(alone.stats.promptTokens + historyTokens);
    expect(withHistory.stats.generatedTokens).toBeGreaterThan(0);
  }, 30_000);

  it('refuses chat mode on a model without a chat template, saying what to do', async () => {
    const { end } = await generate({ modelId: 2, mode: 'chat', prompt: 'Hi' });
    expect(end).toMatchObject({ type: 'error', code: 'invalid_input' });
    expect(end.type === 'error' && end.message).toMatch(/student\.gguf has no chat template.*completion mode/);
  }, 30_000);

  it('reports a model file that does not exist as an error event naming it', async () => {
    const { end } = await generate({ modelId: MISSING_ID });
    expect(end).toMatchObject({ type: 'error', code: 'file_missing' });
    expect(end.type === 'error' && end.message).toContain('distillery-no-such-model.gguf');
  });

  it('fails the call itself for an id that is not in the library', () => {
    expect(() => service.generate({ modelId: 5, mode: 'completion', prompt: 'x', systemPrompt: '', sampling: sampling(), adapters: [] })).toThrow(
      /there is no model 5/,
    );
  });

  it('runs two generations on one model without mixing them', async () => {
    const s1 = sampling({ maxTokens: 12, seed: 11, temperature: 1 });
    const s2 = sampling({ maxTokens: 12, seed: 22, temperature: 1 });
    const alone1 = done((await generate({ prompt: 'First story:', sampling: s1 })).end).text;
    const alone2 = done((await generate({ modelId: 2, prompt: 'Second story:', sampling: s2 })).end).text;
    const a = service.generate({ modelId: 1, mode: 'completion', prompt: 'First story:', systemPrompt: '', sampling: s1, adapters: [] });
    const b = service.generate({ modelId: 1, mode: 'completion', prompt: 'First story:', systemPrompt: '', sampling: s1, adapters: [] });
    const c = service.generate({ modelId: 2, mode: 'completion', prompt: 'Second story:', systemPrompt: '', sampling: s2, adapters: [] });
    const [ea, eb, ec] = await Promise.all([rec.end(a.generationId), rec.end(b.generationId), rec.end(c.generationId)]);
    expect(done(ea).text).toBe(alone1);
    expect(done(eb).text).toBe(alone1);
    expect(done(ec).text).toBe(alone2);
  }, 30_000);
});
