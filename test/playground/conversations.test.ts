import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '../helpers/workspace.js';
import { createApp } from '../../src-main/core/app.js';
import { createClient } from '../../src-shared/client.js';

const ws = makeWorkspace({ runJobs: false });
afterAll(() => ws.close());

describe('playground conversations (contract, SQLite)', () => {
  it('saves a chat, lists it, replaces its turns, and finds it again after the app restarts', async () => {
    const first = await ws.client.call('playground.saveConversation', {
      systemPrompt: 'Be brief.',
      messages: [
        { role: 'user', content: 'What is a lighthouse for?\nPlease answer in a line.' },
        { role: 'assistant', content: 'To warn ships off the rocks.' },
      ],
    });
    expect(first).toMatchObject({ title: 'What is a lighthouse for?', turns: 2, modelId: null, systemPrompt: 'Be brief.' });
    const second = await ws.client.call('playground.saveConversation', { messages: [{ role: 'user', content: 'Hello' }] });
    const more = [...first.messages, { role: 'user' as const, content: 'And at night?' }, { role: 'assistant' as const, content: 'It shines.' }];
    const updated = await ws.client.call('playground.saveConversation', { id: first.id, systemPrompt: 'Be brief.', messages: more });
    expect(updated.messages).toEqual(more);
    expect(updated.createdAt).toBe(first.createdAt);

    const list = await ws.client.call('playground.conversations', {});
    expect(list.map((c) => [c.id, c.turns])).toEqual([
      [first.id, 4], // most recently changed first
      [second.id, 1],
    ]);

    // another app on the same data folder (a reload, a restart) reads the same chats
    const again = createApp({ dataDir: ws.dir, host: 'http', gpu: false, runJobs: false });
    try {
      const c2 = createClient({ call: again.call, subscribe: again.subscribe });
      expect((await c2.call('playground.conversation', { id: first.id })).messages).toEqual(more);
    } finally {
      await again.close();
    }
  });

  it('deletes a chat, and refuses an unknown id with a clear error', async () => {
    const c = await ws.client.call('playground.saveConversation', { messages: [{ role: 'user', content: 'Bye' }] });
    expect(await ws.client.call('playground.deleteConversation', { id: c.id })).toEqual({ deleted: true });
    expect(await ws.client.call('playground.deleteConversation', { id: c.id })).toEqual({ deleted: false });
    await expect(ws.client.call('playground.conversation', { id: c.id })).rejects.toMatchObject({
      code: 'not_found',
      message: `there is no saved chat ${c.id}`,
    });
    await expect(ws.client.call('playground.saveConversation', { id: c.id, messages: [] })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a turn with an unknown role, naming the field', async () => {
    const r = await ws.app.call('playground.saveConversation', { messages: [{ role: 'tool', content: 'x' }] });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'messages.0.role' } });
  });
});
